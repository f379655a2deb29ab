from io import StringIO

import pytest

from django.core.management import call_command

from wagtail.models import Page, Revision

from practices.demo_slides import EXAMPLE_BANNER
from practices.factories import UserFactory
from practices.management.commands.load_demo import EXAMPLE_EDITORS_EMAIL, RETIRED_EXAMPLE_PRACTICES
from practices.models import (
    ClusterPage,
    ContributeSettings,
    EventPage,
    HomeFeatured,
    HomePage,
    Industry,
    KBDocument,
    Network,
    PracticePage,
    PresentationPage,
    Project,
    ThemePage,
)
from practices.models.home import ICT_DIVISIONS
from search import service
from tests.on_commit import run_on_commit


def test_setup_site_builds_a_searchable_site_and_a_second_run_changes_nothing(db, settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "static"
    out = StringIO()
    call_command("setup_site", stdout=out)
    counts = (Page.objects.count(), Revision.objects.count(), PracticePage.objects.live().count())
    assert counts[2] >= 787
    assert "787 created" in out.getvalue() and "user: admin" in out.getvalue()
    assert client.get("/search/", {"q": "textile"}).context["results"].total > 0
    # Wagtail's own index holds the snippets loaded by a data migration: the admin finds them.
    from wagtail.search.backends import get_search_backend

    from practices.models import Industry

    assert {"J", "63"} <= {i.code for i in get_search_backend().search("information", Industry)}
    admin = UserFactory(username="root", superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/snippets/practices/industry/", {"q": "information"}).content.decode()
    assert "No industries match" not in listing and "Information and communication" in listing

    again = StringIO()
    call_command("setup_site", stdout=again)
    assert (Page.objects.count(), Revision.objects.count(), PracticePage.objects.live().count()) == counts
    assert "787 unchanged" in again.getvalue()

    # The home page features real practices in ICT divisions out of the box.
    home = HomePage.objects.get()
    featured = home.featured_pages()
    assert len(featured) == 6
    ict = set(Industry.objects.filter(code__in=ICT_DIVISIONS).values_list("pk", flat=True))
    for page in featured:
        assert page.external_id.startswith("ce-") and ict & {i.pk for i in page.industries.all()}
    html = client.get("/").content.decode()
    assert featured[0].title in html
    theme = ThemePage.objects.get(slug="example-theme-digital-solutions")
    assert theme.items.count() == 12
    # The same account, its password printed again rather than replaced.
    assert (
        out.getvalue().split("password: ")[1].split()[0] == again.getvalue().split("password: ")[1].split()[0]
    )


def test_the_featured_rule_never_overrides_editors(db):
    from practices.factories import ClusterPageFactory, PracticePageFactory, make_site

    site = make_site()
    cluster = ClusterPageFactory(parent=site["clusters"])
    j62 = Industry.objects.get(code="62")
    made = []
    for title in ("B digital", "A digital", "C digital"):
        page = PracticePageFactory(parent=cluster, title=title)
        page.industries.set([j62])
        page.save_revision().publish()
        made.append(page)
    both = made[2]
    both.industries.set([j62, Industry.objects.get(code="63")])
    both.save_revision().publish()
    PracticePageFactory(parent=cluster, title="Not ICT").save_revision().publish()
    home = HomePage.objects.get(pk=site["home"].pk)
    assert [p.title for p in home.feature_by_default()] == ["C digital", "A digital", "B digital"]
    assert home.feature_by_default() == []  # chosen already: unchanged

    # An editor who has saved the home page (even with nothing featured) keeps that choice.
    HomeFeatured.objects.filter(home=home).delete()
    home = HomePage.objects.get(pk=home.pk)
    editor = UserFactory(username="ed")
    home.save_revision(user=editor).publish()
    home = HomePage.objects.get(pk=home.pk)
    assert home.feature_by_default() == [] and not home.featured.exists()


@pytest.fixture(scope="class")
def demo_data(shared_class_db):
    """The demo as ``load_demo`` leaves a fresh install, its slides' text extracted and indexed: loaded
    once for the class, each test's changes (and second load) rolled back."""
    service.reset_engine()
    with run_on_commit():
        call_command("load_demo")
    service.reset_engine()


class TestLoadDemo:
    @pytest.fixture
    def demo(self, demo_data, db):
        service.reset_engine()  # the search index is this test's copy of the class's
        yield
        service.reset_engine()

    def test_load_demo_is_idempotent_and_honest(self, demo, client):
        counts = (
            Page.objects.count(),
            Revision.objects.count(),
            Project.objects.count(),
            Network.objects.count(),
        )
        call_command("load_demo")
        assert (
            Page.objects.count(),
            Revision.objects.count(),
            Project.objects.count(),
            Network.objects.count(),
        ) == counts

        project = Project.objects.get(acronym="DANUBE ICT")
        assert project.start_date.isoformat() == "2015-12-01" and project.duration_months == 6
        assert project.lead_partner.title == "Foundation ICT Cluster"
        assert {p.title for p in project.partners.all()} == {
            "Cluj IT Cluster",
            "Vojvodina ICT Cluster",
            "Montenegrin IT Cluster",
        }
        network = Network.objects.get()
        assert sorted(c.code for c in network.countries) == sorted(
            ["AL", "XK", "MK", "GR", "BG", "RS", "RO", "ME", "BA", "UA"]
        )
        # The project's sources name the member countries, not the member clusters: none is invented.
        assert not network.clusters.exists()

        meeting = EventPage.objects.get(slug="strategic-ict-clusters-meeting-belgrade-2016")
        assert (meeting.start_date.isoformat(), meeting.end_date.isoformat()) == ("2016-02-18", "2016-02-19")
        assert meeting.participants == 26 and meeting.venue == "Art Hotel Belgrade"
        assert {g.name for g in meeting.guests.all()} == {"Mohammed Al Hammadi", "Sebastiano Toffaletti"}
        # No invented presentation is attributed to the real meeting.
        assert not PresentationPage.objects.child_of(meeting).exists()

        # Every invented practice and presentation belongs to the fictional Example Cluster and says so.
        real_clusters = ClusterPage.objects.filter(is_example=False)
        for cluster in real_clusters:
            assert not PracticePage.objects.child_of(cluster).exclude(external_id__startswith="ce-").exists()
        assert not PresentationPage.objects.filter(presenting_cluster__in=real_clusters).exists()
        # No fictional practice in the demo: the real ones are imported.
        assert not PracticePage.objects.exists()

        # The example workshop's presentations each have a generated slide deck, marked as an example,
        # whose text was extracted like any upload's and whose first page has a preview.
        presentations = PresentationPage.objects.filter(slug__startswith="example-")
        assert presentations.count() == 2
        for page in presentations:
            slides = page.slides
            assert slides.file_extension == "pdf" and slides.text_status == KBDocument.STATUS_EXTRACTED
            units = list(slides.text_units.order_by("number"))
            assert len(units) == 4 and all(EXAMPLE_BANNER in u.text for u in units)
            assert slides.preview
            html = client.get(page.url).content.decode()
            assert "Example content" in html and f"/documents/{slides.pk}/preview/" in html
            assert client.get(f"/documents/{slides.pk}/preview/").status_code == 200
        # In-document search finds a slide's words at their page.
        hits = client.get("/search/", {"q": '"soft-landing desk"'}).context["results"].hits
        assert hits and hits[0].document is not None and hits[0].document.page == 3

    def test_load_demo_removes_the_example_practices_of_earlier_versions(self, demo):
        example = ClusterPage.objects.get(slug="example-cluster")
        for slug in RETIRED_EXAMPLE_PRACTICES:
            old = PracticePage(title="Example: old", slug=slug)
            example.add_child(instance=old)
            old.save_revision().publish()
        call_command("load_demo")
        assert not PracticePage.objects.exists()

    def test_load_demo_sets_an_example_editors_contact_and_keeps_the_editors_own(self, demo):
        """The imported practices have no contact: on a fresh install their messages go to the editors'
        example address (so the form can be tried); an address editors set is never overwritten."""
        assert ContributeSettings.load().contact_email == EXAMPLE_EDITORS_EMAIL
        assert EXAMPLE_EDITORS_EMAIL.endswith("@example.org")
        contribute = ContributeSettings.load()
        contribute.contact_email = "editors@kb.test"
        contribute.save()
        call_command("load_demo")
        assert ContributeSettings.load().contact_email == "editors@kb.test"
