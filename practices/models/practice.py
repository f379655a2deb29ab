from django_countries.fields import CountryField

from django.db import models

from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, MultipleChooserPanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page
from wagtail.search import index

from .. import visibility
from ..admin_viewer import PublicTitleForOthers
from ..links import BaseURLMixin
from ..page_forms import CollectionCheckedPageForm
from ..widgets import clusters_widget, countries_widget, industries_widget
from .contact import contact_recipient
from .mixins import CURATE


class PracticePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "practices.PracticePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


SUMMARY_MAX = 600
SECTION_MAX = 6000
SECTION_LIMIT = f"At most {SECTION_MAX:,} characters."


class PracticePage(PublicTitleForOthers, BaseURLMixin, Page):
    """A good practice written up by a cluster (or imported from the platform that published it)."""

    kind_label = "Practice"

    SECTIONS = [
        ("challenge", "Challenge"),
        ("solution", "Solution"),
        ("results", "Results and evidence of success"),
        ("resources", "Resources needed"),
        ("transferability", "Potential for transfer"),
    ]

    summary = models.TextField(
        blank=True,
        max_length=SUMMARY_MAX,
        help_text=(
            "What the practice achieved, in one or two sentences: shown under the title in search results, "
            f"on cards and in link previews (at most {SUMMARY_MAX} characters)."
        ),
    )
    industries = ParentalManyToManyField(
        "practices.Industry",
        blank=True,
        related_name="practices",
        help_text="The industries (NACE Rev. 2) the practice serves: a whole section, or its divisions.",
    )
    industries_inferred = models.BooleanField(
        default=False,
        help_text="The industries were inferred from the source's categories, not stated by it.",
    )
    countries = CountryField(multiple=True, blank=True, help_text="Where the practice is applied.")
    tags = ClusterTaggableManager(through=PracticePageTag, blank=True)
    partner_clusters = ParentalManyToManyField(
        "practices.ClusterPage",
        blank=True,
        related_name="partner_in",
        help_text="Other clusters of the network that took part.",
    )

    challenge = RichTextField(
        blank=True,
        max_length=SECTION_MAX,
        help_text=f"The problem or need the practice answered: who had it and why it mattered. {SECTION_LIMIT}",
    )
    solution = RichTextField(
        blank=True,
        max_length=SECTION_MAX,
        help_text=f"What was done, by whom, with which technology or method, and when. {SECTION_LIMIT}",
    )
    results = RichTextField(
        blank=True,
        max_length=SECTION_MAX,
        verbose_name="results and evidence of success",
        help_text=(
            "What changed, with figures where you have them (users, jobs, savings, money raised) "
            f"and how they were measured. {SECTION_LIMIT}"
        ),
    )
    resources = RichTextField(
        blank=True,
        max_length=SECTION_MAX,
        verbose_name="resources needed",
        help_text=f"What it took: people, time, budget, partners, tools. {SECTION_LIMIT}",
    )
    transferability = RichTextField(
        blank=True,
        max_length=SECTION_MAX,
        verbose_name="potential for transfer",
        help_text=f"What another cluster would need to repeat it, and what to watch out for. {SECTION_LIMIT}",
    )

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
    contact_email = models.EmailField(
        blank=True,
        help_text="Never shown: members write to it through the page's contact form. Without it, messages"
        " go to the cluster's contact e-mail, else to the knowledge-base editors.",
    )
    last_reviewed_at = models.DateField(null=True, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldPanel("industries", widget=industries_widget()),
                FieldPanel("countries", widget=countries_widget()),
                FieldPanel("tags"),
                FieldPanel("partner_clusters", widget=clusters_widget()),
            ],
            heading="Classification",
        ),
        FieldPanel("challenge"),
        FieldPanel("solution"),
        FieldPanel("results"),
        FieldPanel("resources"),
        FieldPanel("transferability"),
        MultipleChooserPanel(
            "attached_documents",
            chooser_field_name="document",
            label="Documents",
            help_text="PDF, PPTX, DOCX, ODP or ODT. Their text is searched; the title is the link text.",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("start_year"), FieldPanel("ongoing")]),
                FieldPanel("organisation_type"),
                FieldPanel("language"),
            ],
            heading="About the practice",
        ),
        MultiFieldPanel([FieldPanel("contact_name"), FieldPanel("contact_email")], heading="Contact"),
        MultipleChooserPanel(
            "related_practices",
            chooser_field_name="related",
            label="Related practices",
            help_text="Practices in this knowledge base that readers of this one should see.",
        ),
        MultiFieldPanel(
            [
                FieldPanel("external_id", read_only=True, permission=CURATE),
                FieldPanel("source_link", read_only=True, permission=CURATE),
                FieldPanel("organisation", read_only=True, permission=CURATE),
                FieldPanel("industries_inferred", read_only=True, permission=CURATE),
            ],
            heading="Imported record",
            help_text="Set by the import from the source; shown for reference.",
        ),
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

    def get_context(self, request, *args, **kwargs):
        from ..forms import ContactForm

        context = super().get_context(request, *args, **kwargs)
        context.setdefault("contact_form", ContactForm())
        context["contact_to"] = contact_recipient(self, request)
        context["contact_sent"] = request.GET.get("contact") == "sent"
        return context

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
