"""Signals of this app's own, for changes Wagtail's page signals do not announce."""

from django.dispatch import Signal

# Sent inside each import batch's transaction (the pages are written without the per-page publish
# signals): `page_ids` were created or changed, `unchanged_ids` are live pages the batch left as they
# were. Sent in the transaction so a receiver can record what it owes in it, durably.
practices_imported = Signal()
# Sent when a label shown in search changes (an industry's or cluster's name); `page_ids` are affected.
labels_changed = Signal()
# Sent when the extracted text of a document changes; `document` is the KBDocument.
document_text_changed = Signal()
