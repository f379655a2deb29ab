from django_countries.fields import CountryField

from django.core.paginator import Paginator
from django.db import models

from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from .. import visibility
from ..admin_viewer import PublicTitleForOthers
from ..links import BaseURLMixin
from ..page_forms import CollectionCheckedPageForm
from ..widgets import industries_widget
from .mixins import CURATE, PER_PAGE, paginate


class ClusterIndexPage(PublicTitleForOthers, BaseURLMixin, Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["practices.HomePage"]
    subpage_types = ["practices.ClusterPage"]
    max_count_per_parent = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        clusters = visibility.visible(ClusterPage.objects.child_of(self)).order_by("title")
        context["clusters"] = paginate(request, clusters, per_page=48)
        return context


class ClusterPage(PublicTitleForOthers, BaseURLMixin, Page):
    """A cluster's profile, and the parent of its practices, so publishing rights follow the tree."""

    KIND_CLUSTER = "cluster"
    KIND_SOURCE = "source"
    KIND_CHOICES = [
        (KIND_CLUSTER, "ICT cluster"),
        (KIND_SOURCE, "Source platform (practices imported from another publisher)"),
    ]

    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default=KIND_CLUSTER)
    is_example = models.BooleanField(
        default=False,
        help_text="A fictional publisher used for demonstration; its content is labelled as an example.",
    )
    country = CountryField(blank=True)
    city = models.CharField(max_length=120, blank=True)
    website = models.URLField(blank=True)
    contact_email = models.EmailField(
        blank=True,
        help_text="Never shown: members write to it through the contact form of the cluster's practices"
        " that have no contact e-mail of their own.",
    )
    description = RichTextField(blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    networks = ParentalManyToManyField("practices.Network", blank=True, related_name="clusters")
    industries = ParentalManyToManyField(
        "practices.Industry",
        blank=True,
        related_name="clusters",
        help_text="The industries (NACE Rev. 2) the cluster's members work in.",
    )

    # A cluster's editors keep its profile; what it is and which networks it belongs to are curated.
    content_panels = Page.content_panels + [
        FieldPanel("description"),
        FieldPanel("logo"),
        FieldPanel("website"),
        FieldPanel("contact_email"),
        FieldPanel("city"),
        FieldPanel("industries", widget=industries_widget()),
        MultiFieldPanel(
            [
                FieldPanel("kind", permission=CURATE),
                FieldPanel("is_example", permission=CURATE),
                FieldPanel("country", permission=CURATE),
                FieldPanel("networks", permission=CURATE),
            ],
            heading="Curated by the knowledge-base editors",
        ),
    ]
    search_fields = Page.search_fields + [index.SearchField("description"), index.SearchField("city")]
    parent_page_types = ["practices.ClusterIndexPage"]
    subpage_types = ["practices.PracticePage"]
    base_form_class = CollectionCheckedPageForm

    class Meta:
        permissions = [("curate", "Can curate: clusters' kind and networks, imported records' fields")]

    def get_context(self, request, *args, **kwargs):
        from .events import PresentationPage
        from .practice import PracticePage

        context = super().get_context(request, *args, **kwargs)
        practices = visibility.visible(PracticePage.objects.child_of(self)).order_by(
            "-first_published_at", "pk"
        )
        context["practices"] = paginate(request, practices)
        presentations = visibility.visible(PresentationPage.objects.filter(presenting_cluster=self)).order_by(
            "-first_published_at", "-pk"
        )
        context["presentations"] = Paginator(presentations, PER_PAGE).get_page(request.GET.get("ppage"))
        return context
