"""Create the demo site: the DANUBE ICT project, its Belgrade meeting, and plainly marked examples.

Facts come from the project's own description (see the README); a field whose value is not known is
left empty. Invented content (the fictional "Example workshop" and its presentations, with generated
slide decks) is published only by the fictional "Example Cluster" and is labelled as an example.
The real practices are imported separately; the example practices of earlier versions are removed.
Running the command twice changes nothing.
"""

import datetime

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from wagtail.models import Collection, Page, Site

from practices.demo_slides import deck
from practices.models import (
    ClusterIndexPage,
    ClusterPage,
    ContributeSettings,
    EventIndexPage,
    EventPage,
    HomePage,
    Industry,
    KBDocument,
    Network,
    PracticePage,
    PresentationPage,
    Project,
    ThemeIndexPage,
    ThemePage,
)

NETWORK = "Balkan and Black Sea ICT Clusters Network"
NETWORK_COUNTRIES = ["AL", "XK", "MK", "GR", "BG", "RS", "RO", "ME", "BA", "UA"]
PARTNERS = [
    # name, country, city (left empty where the project's sources do not say)
    ("Foundation ICT Cluster", "", ""),
    ("Cluj IT Cluster", "RO", "Cluj-Napoca"),
    ("Vojvodina ICT Cluster", "RS", "Novi Sad"),
    ("Montenegrin IT Cluster", "ME", ""),
]
MEETING_TITLE = "Strategic ICT Clusters' Meeting for Danube ICT Clusters' Sustainable Cooperation for Smart and Inclusive Growth"
MEETING_DESCRIPTION = (
    "<p>Held at the Art Hotel in Belgrade on 18 and 19 February 2016 within the DANUBE ICT project. "
    "26 representatives of the Balkan and Black Sea ICT Clusters Network, from Albania, Kosovo, North "
    "Macedonia, Greece, Bulgaria, Serbia, Romania, Montenegro, Bosnia and Herzegovina and Ukraine, took part. "
    "Representatives of the technology park Belgrade and of Serbian start-ups attended.</p>"
    "<p>The partners shared good practices in cross-industry collaboration and presented positions on "
    "focused industries.</p>"
)
GUESTS = [
    ("Mohammed Al Hammadi", "Founder and Chief Executive of InvestSource"),
    (
        "Sebastiano Toffaletti",
        "Alliance Secretary General of the Digital SME Alliance, the European voice of high-tech SMEs",
    ),
]

EXAMPLE_CLUSTER = "Example Cluster"
EXAMPLE_NOTE = "This is an example, written for demonstration: it describes no real practice."
# The knowledge-base editors' contact on a fresh install: an example address (example.org is reserved
# for examples), so that "Contact the publisher" can be tried on the imported practices, none of which
# has a contact of its own. Editors set the real one under Settings > Contribute page; it is kept.
EXAMPLE_EDITORS_EMAIL = "kb-editors@example.org"
# Example practices of earlier versions of the demo, removed now that the real practices are imported.
RETIRED_EXAMPLE_PRACTICES = [
    "example-shared-cloud-lab-for-agritech",
    "example-recycling-marketplace-for-electronics",
    "example-telemedicine-pilot-with-rural-clinics",
]
RETIRED_EXAMPLE_THEME = "example-theme-cross-industry-collaboration"
EXAMPLE_PRESENTATIONS = [
    {
        "slug": "example-agritech-partnerships",
        "title": "Example: Agritech partnerships between IT firms and farmers",
        "presenter": "Example Presenter",
        "presenter_role": "Example role",
        "industries": ["A", "J"],
        "tags": ["agritech", "cross-industry"],
        "abstract": "Example presentation: how an IT cluster could pair software firms with farm co-operatives.",
        "slides": [
            (
                "Why pair IT firms with farm co-operatives",
                ["Field sensor data is rarely used", "Software firms lack test fields"],
            ),
            (
                "A shared test field",
                ["Co-operatives open one field to start-ups", "Sensor data shared under one agreement"],
            ),
            (
                "What a cluster could offer",
                ["Matchmaking days", "A model data-sharing contract", "Joint funding bids"],
            ),
        ],
    },
    {
        "slug": "example-cluster-services-for-start-ups",
        "title": "Example: Cluster services for start-ups",
        "presenter": "Example Presenter",
        "presenter_role": "Example role",
        "industries": ["J", "M"],
        "tags": ["start-ups", "services"],
        "abstract": "Example presentation: a menu of services a cluster could offer its start-up members.",
        "slides": [
            ("What start-ups ask their cluster for", ["First customers", "Mentoring", "Access to funding"]),
            (
                "A menu of cluster services",
                ["Soft-landing desk", "Investor evenings", "Shared legal templates"],
            ),
            ("Measuring the services", ["Start-ups served per year", "Follow-on funding raised"]),
        ],
    },
]


def publish(page):
    page.save_revision().publish()
    return page


def child(parent, model, slug, **fields):
    """The child page with this slug, created and published if missing; existing pages are left alone."""
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing:
        return existing, False
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    return publish(page), True


class Command(BaseCommand):
    help = "Create the demo content (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        self.created = 0
        home = self.home()
        clusters = self.counted(child(home, ClusterIndexPage, "clusters", title="Clusters"))
        events = self.counted(child(home, EventIndexPage, "meetings", title="Meetings"))
        themes = self.counted(child(home, ThemeIndexPage, "themes", title="Themes"))

        network, made = Network.objects.get_or_create(name=NETWORK, defaults={"countries": NETWORK_COUNTRIES})
        self.created += made
        partners = [
            self.counted(
                child(clusters, ClusterPage, self.slug(name), title=name, country=country, city=city)
            )
            for name, country, city in PARTNERS
        ]
        project = self.project(partners)
        meeting = self.meeting(events, project)

        example = self.counted(
            child(
                clusters,
                ClusterPage,
                "example-cluster",
                title=EXAMPLE_CLUSTER,
                is_example=True,
                description=f"<p>A fictional cluster. {EXAMPLE_NOTE}</p>",
            )
        )
        self.retire_examples(example, themes)
        workshop = self.counted(
            child(
                events,
                EventPage,
                "example-workshop",
                title="Example workshop (fictional)",
                start_date=datetime.date(2024, 5, 14),
                is_example=True,
                summary="A fictional event that shows how presentations are published.",
                description=f"<p>{EXAMPLE_NOTE}</p>",
            )
        )
        for spec in EXAMPLE_PRESENTATIONS:
            self.example_presentation(workshop, example, spec)
        self.editors_contact()
        self.stdout.write(
            f"Demo content ready: {self.created} object(s) created "
            f"(network {network.name!r}, project {project}, meeting {meeting.url_path!r})."
        )

    def editors_contact(self):
        contribute = ContributeSettings.load()
        if not contribute.contact_email:
            contribute.contact_email = EXAMPLE_EDITORS_EMAIL
            contribute.save(update_fields=["contact_email"])
            self.created += 1

    def counted(self, result):
        page, made = result
        self.created += made
        return page

    @staticmethod
    def slug(name):
        from django.utils.text import slugify

        return slugify(name)

    def home(self):
        home = HomePage.objects.first()
        if home:
            return home
        root = Page.get_first_root_node()
        home = HomePage(
            title="Danube ICT Good Practice Knowledge Base",
            slug="home",
            intro=(
                "<p>Good practices and presentations of the ICT clusters of the Danube region and the Balkans, "
                "starting from the DANUBE ICT project.</p>"
            ),
        )
        # Wagtail's migrations create a "Welcome" page at the site root: the knowledge base replaces it.
        for page in Page.objects.filter(depth=2, slug="home").exclude(content_type__model="homepage"):
            page.delete()
        root.add_child(instance=home)
        publish(home)
        site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
        site.root_page = home
        site.hostname = site.hostname or "localhost"
        site.port = site.port or 80
        site.site_name = "Danube ICT Good Practice Knowledge Base"
        site.save()
        self.created += 1
        return home

    def project(self, partners):
        lead, *others = partners
        project, made = Project.objects.get_or_create(
            acronym="DANUBE ICT",
            defaults={
                "name": "DANUBE ICT",
                "start_date": datetime.date(2015, 12, 1),
                "duration_months": 6,
                "funders": (
                    "The European Commission's START programme of the EU Strategy for the Danube Region, "
                    "and partly the City of Vienna."
                ),
                "lead_partner": lead,
            },
        )
        if made:
            project.partners.set(others)
            project.save()
            self.created += 1
        return project

    def meeting(self, events, project):
        meeting, made = child(
            events,
            EventPage,
            "strategic-ict-clusters-meeting-belgrade-2016",
            title=MEETING_TITLE,
            start_date=datetime.date(2016, 2, 18),
            end_date=datetime.date(2016, 2, 19),
            venue="Art Hotel Belgrade",
            city="Belgrade",
            country="RS",
            funding_project=project,
            participants=26,
            summary=(
                "26 representatives of the Balkan and Black Sea ICT Clusters Network shared good practices "
                "in cross-industry collaboration."
            ),
            description=MEETING_DESCRIPTION,
        )
        if made:
            for name, role in GUESTS:
                meeting.guests.create(name=name, role=role)
            publish(meeting)
            self.created += 1
        return meeting

    def industries(self, codes):
        return list(Industry.objects.filter(code__in=codes))

    def retire_examples(self, example, themes):
        """Remove the example practices (and their theme) of earlier demos; real practices replace them."""
        for page in PracticePage.objects.child_of(example).filter(slug__in=RETIRED_EXAMPLE_PRACTICES):
            page.delete()
        ThemePage.objects.child_of(themes).filter(slug=RETIRED_EXAMPLE_THEME).delete()

    def example_presentation(self, event, cluster, spec):
        spec = dict(spec)
        industries, tags, slides = spec.pop("industries"), spec.pop("tags"), spec.pop("slides")
        spec["abstract"] = f"<p>{spec['abstract']} {EXAMPLE_NOTE}</p>"
        page, made = child(event, PresentationPage, spec.pop("slug"), presenting_cluster=cluster, **spec)
        if made:
            page.industries.set(self.industries(industries))
            page.tags.set(tags)
            publish(page)
            self.created += 1
        if page.slides_id is None:
            page.slides = self.slide_deck(page, slides)
            publish(page)
            self.created += 1
        return page

    def slide_deck(self, page, slides):
        """A generated PDF, saved as any upload is: its text is extracted (after the commit) and indexed."""
        collection = (
            Collection.objects.filter(name=EXAMPLE_CLUSTER).first() or Collection.get_first_root_node()
        )
        document = KBDocument(title=f"{page.title} (example slides)", collection=collection)
        name = f"{page.slug}-slides.pdf"
        document.file.save(name, ContentFile(deck(page.title, slides), name=name), save=False)
        document.save()
        return document
