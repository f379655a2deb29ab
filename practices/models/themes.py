from django.db import models

from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, PageChooserPanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page
from wagtail.search import index

from .. import visibility
from ..admin_viewer import PublicTitleForOthers
from ..links import BaseURLMixin
from .mixins import paginate


class ThemeIndexPage(PublicTitleForOthers, BaseURLMixin, Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["practices.HomePage"]
    subpage_types = ["practices.ThemePage"]
    max_count_per_parent = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["themes"] = paginate(
            request, visibility.visible(ThemePage.objects.child_of(self)).order_by("title")
        )
        return context


class ThemePage(PublicTitleForOthers, BaseURLMixin, Page):
    """A collection of practices and presentations curated by the editors, e.g. "Agritech partnerships"."""

    introduction = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("introduction"), InlinePanel("items", label="Items")]
    search_fields = Page.search_fields + [index.SearchField("introduction")]
    parent_page_types = ["practices.ThemeIndexPage"]
    subpage_types = []

    def live_items(self):
        pages = [item.item for item in self.items.select_related("item") if item.item_id]
        visible = {p.pk for p in visibility.visible(Page.objects.filter(pk__in=[p.pk for p in pages]))}
        return [p.specific for p in pages if p.pk in visible]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["items"] = paginate(request, self.live_items())
        return context


class ThemeItem(Orderable):
    page = ParentalKey(ThemePage, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("item", ["practices.PracticePage", "practices.PresentationPage"])]
