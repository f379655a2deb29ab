"""Create the local administrator account once, and print its credentials every time."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from practices.links import absolute_url


class Command(BaseCommand):
    help = "Create a local superuser 'admin' with a random password (kept in var/admin-credentials.txt)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        credentials = settings.VAR_DIR / "admin-credentials.txt"
        user = User.objects.filter(username=username).first()
        if user is None or not credentials.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(username, f"{username}@localhost", password)
            else:
                user.set_password(password)
                user.save()
            credentials.parent.mkdir(parents=True, exist_ok=True)
            credentials.write_text(f"{username}\n{password}\n")
            credentials.chmod(0o600)
        username, password = credentials.read_text().split("\n")[:2]
        self.stdout.write(
            f"Admin: {absolute_url('/admin/')}  user: {username}  password: {password}  "
            f"(kept in {credentials})"
        )
