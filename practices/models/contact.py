from dataclasses import dataclass

from django.db import models

from .clusters import ClusterPage
from .contribute import ContributeSettings


class ContactMessage(models.Model):
    """A member's message relayed to a practice's contact; kept so editors can see what was sent."""

    TO_PRACTICE = "practice"
    TO_CLUSTER = "cluster"
    TO_EDITORS = "editors"
    RELAYED_TO_CHOICES = [
        (TO_PRACTICE, "The practice's contact"),
        (TO_CLUSTER, "The publishing cluster's contact"),
        (TO_EDITORS, "The knowledge-base editors, to pass on"),
    ]

    page = models.ForeignKey(
        "practices.PracticePage", on_delete=models.CASCADE, related_name="contact_messages"
    )
    name = models.CharField(max_length=100)
    email = models.EmailField()
    message = models.TextField(max_length=3000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent = models.BooleanField(default=False, help_text="The e-mail was handed to the mail server.")
    relayed_to = models.CharField("sent to", max_length=10, choices=RELAYED_TO_CHOICES, default=TO_PRACTICE)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "message to a publisher"

    def __str__(self):
        return f"{self.name} about {self.page.title}"


@dataclass(frozen=True)
class ContactRecipient:
    """Who receives a member's message about a practice. ``email`` is never shown to the public."""

    kind: str  # one of ContactMessage.TO_*
    email: str
    name: str  # as the form names them to the member

    @property
    def relays(self) -> bool:
        """The editors receive it to pass on: the practice and its cluster have no address."""
        return self.kind == ContactMessage.TO_EDITORS


def contact_recipient(page, request) -> ContactRecipient | None:
    """The practice's own contact; else its publishing cluster's; else the knowledge-base editors'
    (set in the admin's Contribute page settings); None when there is no address at all (no form)."""
    if page.contact_email:
        return ContactRecipient(ContactMessage.TO_PRACTICE, page.contact_email, page.contact_name)
    parent = ClusterPage.objects.filter(path=page.path[: -page.steplen])
    cluster = parent.only("title", "contact_email").first()
    if cluster is not None and cluster.contact_email:
        return ContactRecipient(ContactMessage.TO_CLUSTER, cluster.contact_email, cluster.title)
    editors = ContributeSettings.load(request_or_site=request)
    if editors.contact_email:
        return ContactRecipient(
            ContactMessage.TO_EDITORS, editors.contact_email, "the knowledge-base editors"
        )
    return None
