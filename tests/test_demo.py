from io import StringIO

from django.core.management import call_command

from wagtail.models import Page, Revision

from practices.models import ClusterPage, EventPage, Network, PracticePage, PresentationPage, Project


def test_load_demo_is_idempotent_and_honest(db, client):
    call_command("load_demo")
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
    for page in PracticePage.objects.filter(external_id=""):
        assert page.title.startswith("Example")
        assert page.get_parent().specific.is_example
        assert "Example content" in client.get(page.url).content.decode()


def test_setup_site_builds_a_searchable_site_and_a_second_run_changes_nothing(
    db, settings, tmp_path, client, django_user_model
):
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
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    listing = client.get("/admin/snippets/practices/industry/", {"q": "information"}).content.decode()
    assert "No industries match" not in listing and "Information and communication" in listing

    again = StringIO()
    call_command("setup_site", stdout=again)
    assert (Page.objects.count(), Revision.objects.count(), PracticePage.objects.live().count()) == counts
    assert "787 unchanged" in again.getvalue()
    # The same account, its password printed again rather than replaced.
    assert (
        out.getvalue().split("password: ")[1].split()[0] == again.getvalue().split("password: ")[1].split()[0]
    )
