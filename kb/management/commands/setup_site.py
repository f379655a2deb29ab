"""Every set-up step of `make run`, in one process so a second run spends its time serving, not starting."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

STEPS = [
    ("migrate", {"interactive": False, "verbosity": 0}),
    ("collectstatic", {"interactive": False, "verbosity": 0}),
    # An index this code can no longer read (its layout changed since the last run) is rebuilt before
    # the content steps, whose index updates would otherwise each fail on it with a logged error.
    ("rebuild_search_index", {"no_progress": True, "if_unreadable": True}),
    ("load_demo", {}),
    ("import_practices", {"source": "ce", "publish": True}),
    ("feature_practices", {}),
    ("setup_roles", {}),
    ("rebuild_search_index", {"no_progress": True}),
    # Industries come from a data migration and imported pages from a bulk insert: Wagtail's own
    # index (the admin's snippet and page searches) learns of them here, then by its signals.
    ("update_wagtail_index", {}),
    ("ensure_admin", {}),
]


class Command(BaseCommand):
    help = "Migrate, collect static files, load the demo and the real practices, roles, search index, admin."

    def handle(self, *args, **options):
        for name, kwargs in STEPS:
            call_command(name, stdout=self.stdout, stderr=self.stderr, **kwargs)
