from django.core.paginator import Paginator
from django.db import models

from wagtail.admin.panels import FieldPanel

PER_PAGE = 20
# Knowledge-base editors' own fields: hidden from cluster editors (Wagtail panels' `permission`).
CURATE = "practices.curate"


def paginate(request, queryset, per_page=PER_PAGE):
    """A page of a listing; a bad or out-of-range page number shows the nearest real page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class SocialMixin(models.Model):
    """Text for search engines and link previews (meta description, Open Graph)."""

    class Meta:
        abstract = True

    def get_meta_description(self):
        return self.search_description or getattr(self, "summary", "") or ""

    promote_panels_extra = [FieldPanel("search_description")]
