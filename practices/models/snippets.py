from django_countries.fields import CountryField

from django.db import models
from django.utils.text import slugify

from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, Panel
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from .. import visibility


class Industry(index.Indexed, models.Model):
    """A NACE Rev. 2 section (level 1, "J") or division (level 2, "62")."""

    code = models.CharField(max_length=4, unique=True)
    level = models.PositiveSmallIntegerField(choices=[(1, "Section"), (2, "Division")])
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="divisions"
    )
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=80, unique=True)

    panels = [FieldPanel("code", read_only=True), FieldPanel("name"), FieldPanel("slug")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.FilterField("code")]

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "industries"

    def __str__(self):
        return f"{self.code} – {self.name}"

    @property
    def section_code(self):
        return self.code if self.level == 1 else self.parent.code

    @staticmethod
    def make_slug(code, name):
        return slugify(f"{code}-{name}")[:80]


class Project(ClusterableModel):
    """A funded project, e.g. DANUBE ICT."""

    name = models.CharField(max_length=255)
    acronym = models.CharField(max_length=40, blank=True)
    start_date = models.DateField(null=True, blank=True)
    duration_months = models.PositiveSmallIntegerField(null=True, blank=True)
    funders = models.TextField(blank=True, help_text="Who funds the project, as the project states it.")
    lead_partner = models.ForeignKey(
        "practices.ClusterPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="led_projects"
    )
    partners = ParentalManyToManyField("practices.ClusterPage", blank=True, related_name="projects")
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("acronym"),
        FieldPanel("start_date"),
        FieldPanel("duration_months"),
        FieldPanel("funders"),
        FieldPanel("lead_partner"),
        FieldPanel("partners"),
        FieldPanel("description"),
        FieldPanel("website"),
    ]

    def __str__(self):
        return self.acronym or self.name


class MemberClustersPanel(Panel):
    """The network's member clusters, read-only: membership is set on each cluster's page."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "practices/admin/network_members.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["clusters"] = self.instance.clusters.order_by("title") if self.instance.pk else []
            return context


class Network(models.Model):
    """A network of clusters, e.g. the Balkan and Black Sea ICT Clusters Network."""

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    countries = CountryField(multiple=True, blank=True, help_text="Member countries.")
    website = models.URLField(blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("countries"),
        FieldPanel("website"),
        MemberClustersPanel(heading="Member clusters"),
    ]

    def __str__(self):
        return self.name

    def member_clusters(self):
        return visibility.visible(self.clusters.all()).order_by("title")


register_snippet(Industry)
register_snippet(Project)
register_snippet(Network)
