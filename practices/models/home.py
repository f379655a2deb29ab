from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404

from modelcluster.fields import ParentalKey
from taggit.models import Tag
from wagtail.admin.panels import FieldPanel, InlinePanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page

from .. import visibility
from ..admin_viewer import PublicTitleForOthers
from ..links import BaseURLMixin
from .events import EventPage, PresentationPage
from .mixins import PER_PAGE, paginate
from .practice import PracticePage
from .snippets import Industry

# The home page's featured practices out of the box: the practices in the divisions of NACE section J
# (Information and communication, 58-63), those in most of them first, then by title.
ICT_DIVISIONS = ("58", "59", "60", "61", "62", "63")
DEFAULT_FEATURED = 6


def ict_practices(limit: int):
    """Live public practices classified in ICT divisions, those in most of them first, then by title."""
    return (
        PracticePage.objects.live()
        .public()
        .filter(industries__code__in=ICT_DIVISIONS)
        .annotate(ict=models.Count("industries", filter=models.Q(industries__code__in=ICT_DIVISIONS)))
        .order_by("-ict", "title", "pk")[:limit]
    )


class HomePage(PublicTitleForOthers, BaseURLMixin, RoutablePageMixin, Page):
    """The knowledge base's front, and the home of the industry and tag listings."""

    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        InlinePanel(
            "featured", label="Featured practices", help_text="Shown on the home page in this order."
        ),
    ]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["practices.ClusterIndexPage", "practices.EventIndexPage", "practices.ThemeIndexPage"]

    def _live(self, model):
        return visibility.visible(model.objects.descendant_of(self))

    def feature_by_default(self) -> list:
        """Feature the rule's practices, unless editors chose (or saved the home page) already."""
        if self.featured.exists() or self.revisions.filter(user__isnull=False).exists():
            return []
        chosen = list(ict_practices(DEFAULT_FEATURED))
        for page in chosen:
            self.featured.create(page=page)
        if chosen:
            self.save_revision().publish()
        return chosen

    def featured_pages(self):
        chosen = [f.page_id for f in self.featured.all()]
        visible = {p.pk: p for p in visibility.visible(Page.objects.filter(pk__in=chosen)).specific()}
        return [visible[pk] for pk in chosen if pk in visible]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["featured"] = self.featured_pages()
        context["latest"] = self._live(PracticePage).order_by("-first_published_at", "-pk")[:6]
        context["sections"] = Industry.objects.filter(level=1).order_by("code")
        context["events"] = self._live(EventPage).order_by("-start_date")[:4]
        return context

    def _listing(self, request, template, heading, practices, presentations, **extra):
        practices = practices.order_by("-first_published_at", "-pk").distinct()
        return self.render(
            request,
            template=template,
            context_overrides={
                "heading": heading,
                "practices": paginate(request, practices),
                # Its own page parameter, so both lists page independently.
                "presentations": Paginator(
                    presentations.order_by("-first_published_at", "-pk").distinct(), PER_PAGE
                ).get_page(request.GET.get("ppage")),
                **extra,
            },
        )

    @path("industries/", name="industries")
    def industries(self, request):
        return self.render(
            request,
            template="practices/industry_index.html",
            context_overrides={"sections": Industry.objects.filter(level=1).prefetch_related("divisions")},
        )

    @path("industries/<slug:slug>/", name="industry")
    def industry(self, request, slug):
        industry = get_object_or_404(Industry, slug=slug)
        codes = [industry.pk] + list(industry.divisions.values_list("pk", flat=True))
        return self._listing(
            request,
            "practices/industry_page.html",
            industry.name,
            self._live(PracticePage).filter(industries__in=codes),
            self._live(PresentationPage).filter(industries__in=codes),
            industry=industry,
        )

    @path("tags/<slug:slug>/", name="tag")
    def tag(self, request, slug):
        tag = visibility.visible_tags(Tag.objects.filter(slug=slug)).first()
        if tag is None:
            raise Http404("No such tag")
        return self._listing(
            request,
            "practices/tag_page.html",
            tag.name,
            self._live(PracticePage).filter(tags=tag),
            self._live(PresentationPage).filter(tags=tag),
            tag=tag,
        )


class HomeFeatured(Orderable):
    home = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured")
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("page", ["practices.PracticePage", "practices.PresentationPage"])]
