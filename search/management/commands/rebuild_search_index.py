"""Rebuild the search index from the live public pages: built aside, then swapped in."""

import time

from django.core.management.base import BaseCommand, CommandError

from search import service
from search.engines.base import EngineBroken, EngineUnavailable, IndexMismatch
from search.service.registry import embedded_engine


class Command(BaseCommand):
    help = (
        "Rebuild the search index (aside, then swap) from every live public practice, presentation and event."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")
        parser.add_argument(
            "--if-unreadable",
            action="store_true",
            help="Rebuild only if the embedded index cannot be read (built by another version, or damaged).",
        )

    def handle(self, *args, no_progress=False, if_unreadable=False, **options):
        if if_unreadable:
            try:
                embedded_engine().count()
                return
            except EngineBroken as exc:
                self.stdout.write(f"{exc} Rebuilding it now.")
        started = time.perf_counter()
        try:
            counts = service.rebuild(progress=not no_progress and options["verbosity"] > 0)
        except IndexMismatch as exc:
            raise CommandError(f"Rebuild refused: {exc} Run the command again.") from exc
        except EngineUnavailable as exc:
            raise CommandError(f"Rebuild failed, the search engine did not answer: {exc}") from exc
        elapsed = time.perf_counter() - started
        for engine, n in counts.items():
            pages = len(service.engine_page_ids(engine))
            self.stdout.write(
                self.style.SUCCESS(f"{engine}: indexed {n} entries of {pages} pages in {elapsed:.1f} s.")
            )
