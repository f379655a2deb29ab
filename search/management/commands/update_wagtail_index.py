"""Put in Wagtail's search index what our engine does not hold: snippets, documents, images, other pages."""

from django.core.management.base import BaseCommand

from search.backend import index_other_models


class Command(BaseCommand):
    help = (
        "Index every snippet, document, image and page of a type the knowledge base's engine does not "
        "index in Wagtail's search index (the admin's snippet, document and image searches read it)."
    )

    def handle(self, *args, **options):
        counts = index_other_models()
        total = sum(counts.values())
        self.stdout.write(f"Wagtail's search index: {total} objects of {len(counts)} models indexed.")
