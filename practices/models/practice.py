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
from ..page_forms import CollectionCheckedPageForm


class PracticePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "practices.PracticePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class PracticePage(PublicTitleForOthers, Page):
    """A good practice written up by a cluster (or imported from the platform that published it)."""

    kind_label = "Practice"

    SECTIONS = [
        ("challenge", "Challenge"),
        ("solution", "Solution"),
        ("results", "Results and evidence of success"),
        ("resources", "Resources needed"),
        ("transferability", "Potential for transfer"),
    ]

    summary = models.TextField(blank=True, help_text="One or two sentences.")
    industries = ParentalManyToManyField("practices.Industry", blank=True, related_name="practices")
    industries_inferred = models.BooleanField(
        default=False,
        help_text="The industries were inferred from the source's categories, not stated by it.",
    )
    countries = CountryField(multiple=True, blank=True, help_text="Where the practice is applied.")
    tags = ClusterTaggableManager(through=PracticePageTag, blank=True)
    partner_clusters = ParentalManyToManyField("practices.ClusterPage", blank=True, related_name="partner_in")

    challenge = RichTextField(blank=True)
    solution = RichTextField(blank=True)
    results = RichTextField(blank=True, verbose_name="results and evidence of success")
    resources = RichTextField(blank=True, verbose_name="resources needed")
    transferability = RichTextField(blank=True, verbose_name="potential for transfer")

    start_year = models.PositiveSmallIntegerField(null=True, blank=True)
    ongoing = models.BooleanField(default=False)
    source_link = models.URLField(max_length=500, blank=True)
    organisation = models.CharField(
        max_length=255, blank=True, help_text="The organisation behind the practice."
    )
    organisation_type = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=60, blank=True)
    external_id = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="The record's id in the source it was imported from.",
    )

    contact_name = models.CharField(max_length=255, blank=True)
    contact_email = models.EmailField(blank=True, help_text="Shown to signed-in users only.")
    last_reviewed_at = models.DateField(null=True, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldPanel("industries"),
                FieldPanel("industries_inferred"),
                FieldPanel("countries"),
                FieldPanel("tags"),
                FieldPanel("partner_clusters"),
            ],
            heading="Classification",
        ),
        FieldPanel("challenge"),
        FieldPanel("solution"),
        FieldPanel("results"),
        FieldPanel("resources"),
        FieldPanel("transferability"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("start_year"), FieldPanel("ongoing")]),
                FieldPanel("organisation"),
                FieldPanel("organisation_type"),
                FieldPanel("language"),
                FieldPanel("source_link"),
                FieldPanel("external_id", read_only=True),
            ],
            heading="Source",
        ),
        MultiFieldPanel([FieldPanel("contact_name"), FieldPanel("contact_email")], heading="Contact"),
        InlinePanel("attached_documents", label="Documents"),
        InlinePanel("related_practices", label="Related practices"),
    ]
    settings_panels = Page.settings_panels + [
        FieldPanel(
            "last_reviewed_at",
            read_only=True,
            heading="Last reviewed",
            help_text="Set when a knowledge-base editor publishes the practice or approves it in review.",
        )
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("challenge"),
        index.SearchField("solution"),
        index.SearchField("results"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("external_id"),
    ]
    parent_page_types = ["practices.ClusterPage"]
    subpage_types = []
    base_form_class = CollectionCheckedPageForm

    def with_content_json(self, content):
        # The review date belongs to the page, not to a revision: publishing an older one keeps it.
        page = super().with_content_json(content)
        page.last_reviewed_at = self.last_reviewed_at
        return page

    @property
    def cluster(self):
        return self.get_parent().specific_deferred

    @property
    def year(self):
        return self.start_year

    def sections(self):
        return [(label, getattr(self, name)) for name, label in self.SECTIONS if getattr(self, name)]

    def visible_related(self):
        """Related practices the public may see, in the editors' order."""
        chosen = [r.related_id for r in self.related_practices.all()]
        shown = {p.pk: p for p in visibility.visible(PracticePage.objects.filter(pk__in=chosen))}
        return [shown[pk] for pk in chosen if pk in shown]

    def visible_partners(self):
        from .clusters import ClusterPage

        # In a preview the relation is held in memory, not queryable: filter by ids.
        chosen = [c.pk for c in self.partner_clusters.all()]
        return visibility.visible(ClusterPage.objects.filter(pk__in=chosen)).order_by("title")

    def public_documents(self):
        return [item.document for item in self.attached_documents.select_related("document") if item.document]


class PracticeDocument(Orderable):
    page = ParentalKey(PracticePage, on_delete=models.CASCADE, related_name="attached_documents")
    document = models.ForeignKey("practices.KBDocument", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("document")]


class RelatedPractice(Orderable):
    page = ParentalKey(PracticePage, on_delete=models.CASCADE, related_name="related_practices")
    related = models.ForeignKey(PracticePage, on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("related")]
