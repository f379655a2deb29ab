"""Document text for search: extraction in a limited child process, queued after each upload."""

import logging
import secrets
import shutil
import tempfile
from pathlib import Path

from django_tasks import task

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from practices.documents import ExtractionFailed, Limits, extract_in_subprocess
from practices.models import DocumentTextUnit, KBDocument
from practices.signals import document_text_changed

logger = logging.getLogger(__name__)


def limits():
    return Limits(**getattr(settings, "KB_EXTRACTION_LIMITS", {}))


def local_copy(document: KBDocument, folder: Path) -> Path:
    """A path the child process can read: the stored file itself, or a copy from remote storage."""
    try:
        return Path(document.file.path)
    except NotImplementedError:
        copy = folder / Path(document.file.name).name
        with document.open_file() as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target)
        return copy


def extract_document(document: KBDocument) -> bool:
    """Extract (again) and store a document's text; a failure is recorded with its reason, never raised."""
    with tempfile.TemporaryDirectory(prefix="kb-preview-") as tmp:
        preview = Path(tmp) / "preview.png"
        try:
            extraction = extract_in_subprocess(
                local_copy(document, Path(tmp)), limits(), preview_path=preview
            )
        except ExtractionFailed as e:
            ok, reason, extraction = False, e.reason, None
        except OSError as e:
            ok, reason, extraction = False, f"The stored file could not be opened ({e.strerror or e}).", None
        else:
            ok, reason = True, ""
        with transaction.atomic():
            document.text_units.all().delete()
            if document.preview:
                document.preview.delete(save=False)
            document.extracted_at = timezone.now()
            if ok:
                DocumentTextUnit.objects.bulk_create(
                    DocumentTextUnit(
                        document=document, number=u.number, unit=u.unit, title=u.title[:500], text=u.text
                    )
                    for u in extraction.units
                )
                document.text_status = KBDocument.STATUS_EXTRACTED
                document.text_error = ""
                document.page_count = extraction.page_count
                document.content_kind = extraction.kind
                if extraction.preview and preview.exists():
                    with preview.open("rb") as png:
                        # Not guessable: previews are served only through the view that checks visibility.
                        name = f"document-{document.pk}-{secrets.token_urlsafe(12)}.png"
                        document.preview.save(name, File(png), save=False)
            else:
                logger.warning("Text of document %s not extracted: %s", document.pk, reason)
                document.text_status = KBDocument.STATUS_FAILED
                document.text_error = reason
                document.page_count = None
            document.save(
                update_fields=[
                    "text_status",
                    "text_error",
                    "page_count",
                    "content_kind",
                    "extracted_at",
                    "preview",
                ]
            )
    document_text_changed.send(sender=KBDocument, document=document)
    return ok


@task()
def extract_document_text_task(document_id: int):
    document = KBDocument.objects.filter(pk=document_id).first()
    if document is not None and document.text_status == KBDocument.STATUS_PENDING:
        extract_document(document)


def queue_extraction(sender, instance, **kwargs):
    """After an upload (or a new file) is saved, extract its text outside the request's transaction."""
    if instance.text_status == KBDocument.STATUS_PENDING and instance.file:
        transaction.on_commit(lambda: extract_document_text_task.enqueue(instance.pk))
