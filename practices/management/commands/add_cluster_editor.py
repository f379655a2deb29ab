"""Give a person an account in a cluster's editors group and print a one-time link to set a password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from practices.links import absolute_url
from practices.models import ClusterPage
from practices.permissions import ensure_cluster_roles


def set_password_url(user):
    # Django's reset token: valid once, as it depends on the password hash and last login.
    path = reverse(
        "wagtailadmin_password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return absolute_url(path)


class Command(BaseCommand):
    help = "Add an editor to a cluster (by slug or exact title), creating the account if needed."

    def add_arguments(self, parser):
        parser.add_argument("cluster", help="The cluster page's slug or title.")
        parser.add_argument("email")

    @transaction.atomic
    def handle(self, *args, cluster, email, **options):
        clusters = ClusterPage.objects.filter(slug=cluster) or ClusterPage.objects.filter(
            title__iexact=cluster
        )
        if len(clusters) != 1:
            found = "no" if not clusters else "several"
            raise CommandError(f"{found} cluster matches '{cluster}'; give the cluster page's slug.")
        group, collection = ensure_cluster_roles(clusters[0])

        User = get_user_model()
        email = User.objects.normalize_email(email.strip())
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User(username=email[:150], email=email, is_active=True)
            user.set_unusable_password()
            user.save()
        user.groups.add(group)

        self.stdout.write(f"{'Created' if created else 'Updated'} {email}: member of '{group.name}'.")
        if created or not user.has_usable_password():
            self.stdout.write(f"Set a password (link works once): {set_password_url(user)}")
