"""Signals of this app's own, for changes Wagtail's page signals do not announce."""

from django.dispatch import Signal

# Sent after a bulk import wrote pages without the per-page publish signals; `page_ids` lists them.
practices_imported = Signal()
# Sent when a label shown in search changes (an industry's or cluster's name); `page_ids` are affected.
labels_changed = Signal()
# Sent when the extracted text of a document changes; `document` is the KBDocument.
document_text_changed = Signal()
