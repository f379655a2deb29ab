from django.db import models

from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


@register_setting(icon="mail")
class ContributeSettings(BaseGenericSetting):
    """What the public "Contribute" page says about getting an account: the knowledge-base editors' contact."""

    contact_name = models.CharField(
        max_length=255,
        blank=True,
        default="Knowledge-base editors",
        help_text="Who gives clusters their accounts, as shown on the Contribute page.",
    )
    contact_email = models.EmailField(
        blank=True, help_text="Where a cluster writes to ask for an account. Shown on the Contribute page."
    )
    extra = models.TextField(
        blank=True,
        help_text="Anything else a cluster should know before asking (optional; one paragraph per line).",
    )

    panels = [FieldPanel("contact_name"), FieldPanel("contact_email"), FieldPanel("extra")]

    class Meta:
        verbose_name = "Contribute page"
