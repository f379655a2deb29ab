"""Index changes a crash kept from the index, then replay the updates Elasticsearch could not take, oldest first."""

from django.core.management.base import BaseCommand, CommandError

from search import service


class Command(BaseCommand):
    help = "Apply the queued index updates to the search engine, in order; exits 1 if some are still pending."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Apply at most this many updates.")

    def handle(self, *args, limit=None, **options):
        from search import queue
        from search.models import PendingIndexUpdate

        caught_up = service.catch_up()
        if caught_up:
            self.stdout.write(f"Indexed {caught_up} pages whose change had not reached the index.")
        result = service.replay_queue(limit=limit)
        self.stdout.write(f"Applied {result.applied} queued updates; {result.remaining} pending.")
        if failed := queue.failed(PendingIndexUpdate):
            self.stderr.write(
                f"{failed} updates were refused {queue.MAX_ATTEMPTS} times and set aside (kept with their "
                "errors, failed_at set); `manage.py rebuild_search_index` supersedes them."
            )
        if result.error:
            raise CommandError(f"The search engine did not take the next update: {result.error}")
