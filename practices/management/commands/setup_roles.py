"""Create the publishing roles and the review workflow; running it again changes nothing."""

from django.core.management.base import BaseCommand

from practices.permissions import setup_roles


class Command(BaseCommand):
    help = (
        "Create the 'Knowledge-base editors' group, the review workflow on the cluster index, and a "
        "group and collection for every cluster."
    )

    def handle(self, *args, **options):
        roles = setup_roles()
        self.stdout.write(f"Moderators: {roles['moderators'].name}")
        self.stdout.write(f"Workflow: {roles['workflow'].name}")
        for group, collection in roles["clusters"]:
            self.stdout.write(f"{group.name} (collection '{collection.name}')")
