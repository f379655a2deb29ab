from django_countries.fields import CountryField

from django.db import models

from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page
from wagtail.search import index

from .. import visibility
from ..admin_viewer import PublicTitleForOthers
from ..links import BaseURLMixin
from ..page_forms import CollectionCheckedPageForm, PresentationPageForm
from ..page_policy import MeetingPermissionTester, PresentationPermissionTester
from ..widgets import industries_widget
from .mixins import paginate


class EventIndexPage(PublicTitleForOthers, BaseURLMixin, Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["practices.HomePage"]
    subpage_types = ["practices.EventPage"]
    max_count_per_parent = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        events = visibility.visible(EventPage.objects.child_of(self)).order_by("-start_date")
        context["events"] = paginate(request, events)
        return context


class EventPage(PublicTitleForOthers, BaseURLMixin, Page):
    """A meeting where clusters presented their practices."""

    kind_label = "Meeting"

    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    venue = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120, blank=True)
    country = CountryField(blank=True)
    organiser = models.CharField(max_length=255, blank=True)
    funding_project = models.ForeignKey(
        "practices.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    participants = models.PositiveIntegerField(null=True, blank=True, help_text="Number of participants.")
    summary = models.TextField(blank=True)
    description = RichTextField(blank=True)
    is_example = models.BooleanField(default=False, help_text="A fictional event used for demonstration.")

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
                FieldPanel("venue"),
                FieldRowPanel([FieldPanel("city"), FieldPanel("country")]),
            ],
            heading="When and where",
        ),
        FieldPanel("organiser"),
        FieldPanel("funding_project"),
        FieldPanel("participants"),
        FieldPanel("summary"),
        FieldPanel("description"),
        FieldPanel("is_example"),
        InlinePanel("guests", label="Guests"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("description"),
        index.SearchField("venue"),
        index.SearchField("city"),
    ]
    parent_page_types = ["practices.EventIndexPage"]
    subpage_types = ["practices.PresentationPage"]
    base_form_class = CollectionCheckedPageForm

    @property
    def year(self):
        return self.start_date.year if self.start_date else None

    def permissions_for_user(self, user):
        # Cluster editors may add their presentations here, nothing more.
        return MeetingPermissionTester(user, self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        presentations = visibility.visible(PresentationPage.objects.child_of(self)).order_by("path")
        context["presentations"] = paginate(request, presentations)
        return context


class EventGuest(Orderable):
    page = ParentalKey(EventPage, on_delete=models.CASCADE, related_name="guests")
    name = models.CharField(max_length=255)
    role = models.CharField(max_length=500, blank=True, help_text="Position and organisation, as introduced.")

    panels = [FieldPanel("name"), FieldPanel("role")]


class PresentationPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "practices.PresentationPage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class PresentationPage(PublicTitleForOthers, BaseURLMixin, Page):
    """A presentation given at a meeting, with its slides."""

    kind_label = "Presentation"

    presenter = models.CharField(max_length=255, blank=True)
    presenter_role = models.CharField(max_length=255, blank=True)
    presenting_cluster = models.ForeignKey(
        "practices.ClusterPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="presentations",
    )
    industries = ParentalManyToManyField("practices.Industry", blank=True, related_name="presentations")
    tags = ClusterTaggableManager(through=PresentationPageTag, blank=True)
    abstract = RichTextField(blank=True)
    slides = models.ForeignKey(
        "practices.KBDocument", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("presenter"), FieldPanel("presenter_role")]),
        FieldPanel("presenting_cluster"),
        FieldPanel("industries", widget=industries_widget()),
        FieldPanel("tags"),
        FieldPanel("abstract"),
        FieldPanel("slides"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("abstract"),
        index.SearchField("presenter"),
        index.RelatedFields("tags", [index.SearchField("name")]),
    ]
    parent_page_types = ["practices.EventPage"]
    subpage_types = []
    base_form_class = PresentationPageForm

    def permissions_for_user(self, user):
        # A presentation is its presenting cluster's page (practices.page_policy).
        return PresentationPermissionTester(user, self)

    @property
    def event(self):
        return self.get_parent().specific_deferred

    @property
    def year(self):
        event = self.event
        return event.year if isinstance(event, EventPage) else None

    def public_documents(self):
        return [self.slides] if self.slides_id else []
