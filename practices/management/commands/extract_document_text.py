from tqdm import tqdm

from django.core.management.base import BaseCommand

from practices.document_text import extract_document
from practices.models import KBDocument


class Command(BaseCommand):
    help = "Extract the text of documents (those waiting by default; --all for every document)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-extract every document")
        parser.add_argument("--failed", action="store_true", help="retry the documents that failed")

    def handle(self, *args, all=False, failed=False, **options):
        documents = KBDocument.objects.order_by("pk")
        if not all:
            statuses = [KBDocument.STATUS_PENDING] + ([KBDocument.STATUS_FAILED] if failed else [])
            documents = documents.filter(text_status__in=statuses)
        failures = []
        for document in tqdm(
            list(documents), desc="Extracting", unit="doc", disable=options["verbosity"] < 1
        ):
            if not extract_document(document):
                document.refresh_from_db()
                failures.append(document)
        for document in failures:
            self.stdout.write(
                f"  not extracted: {document.title} ({document.filename}): {document.text_error}"
            )
        self.stdout.write(
            f"{len(failures)} failed; {KBDocument.objects.filter(text_status='extracted').count()} documents "
            f"have their text extracted out of {KBDocument.objects.count()}."
        )
