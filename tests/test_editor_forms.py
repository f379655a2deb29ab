"""The practice and cluster forms as a cluster's staff get them: grouped, searchable industries, countries
with the network's first, import-only fields hidden, limits enforced; and a cluster's own profile."""

import re

from django.urls import reverse

from wagtail.models import Page
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from practices.factories import ClusterPageFactory, NetworkFactory
from practices.models import ClusterPage, Industry, PracticePage
from tests.test_permissions import login, practice_form, snapshot


def add_form(client, user, cluster):
    login(client, user)
    response = client.get(reverse("wagtailadmin_pages:add", args=("practices", "practicepage", cluster.pk)))
    assert response.status_code == 200
    return response.content.decode()


def test_industries_grouped_by_section_divisions_by_name_and_countries_of_the_network_first(roles, client):
    NetworkFactory(name="Balkan network", countries=["RS", "ME"])
    html = add_form(client, roles.editor_a, roles.a)
    ids = set(re.findall(r'data-kb-checklist id="([^"]+)"', html))
    assert ids == {"id_industries", "id_countries", "id_partner_clusters"}
    j, c62, k = (
        html.index("J – Information and communication (whole section)"),
        html.index("62 – Computer programming"),
        html.index("K – Financial and insurance activities (whole section)"),
    )
    assert j < c62 < k  # a division sits under its section
    # Divisions of a section by name, not by code: 61 Telecommunications after 63 Information service.
    assert html.index("63 – Information service activities") < html.index("61 – Telecommunications")
    start = html.index("Countries of the network")
    first = html[start : html.index("All countries", start)]
    assert "Montenegro" in first and "Serbia" in first, first[:3000]
    assert "Austria" not in first and first.index("Montenegro") < first.index("Serbia")
    assert "js/kb-checklist.js" in html


def test_import_only_fields_hidden_from_cluster_editors_read_only_for_reviewers(roles, client):
    page = roles.a_live
    PracticePage.objects.filter(pk=page.pk).update(
        external_id="ce-00042", source_link="https://example.org/source", organisation="Example org"
    )
    page.refresh_from_db()
    page.save_revision()
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])

    login(client, roles.editor_a)
    html = client.get(url).content.decode()
    assert "ce-00042" not in html and "Imported record" not in html and 'name="external_id"' not in html
    client.post(
        url, practice_form(page, external_id="forged", source_link="https://evil.example", organisation="X")
    )
    latest = PracticePage.objects.get(pk=page.pk).get_latest_revision_as_object()
    assert (latest.external_id, latest.source_link, latest.organisation) == (
        "ce-00042",
        "https://example.org/source",
        "Example org",
    )

    login(client, roles.moderator)
    html = client.get(url).content.decode()
    assert "Imported record" in html and "ce-00042" in html and 'name="external_id"' not in html


def test_summary_and_section_limits_are_enforced(roles, client):
    page = roles.a_draft
    before = snapshot(page)
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    response = client.post(url, practice_form(page, summary="x" * 601))
    assert response.status_code == 200 and "at most 600 characters" in response.content.decode()
    response = client.post(url, practice_form(page, solution=rich_text("<p>" + "y" * 6001 + "</p>")))
    assert response.status_code == 200
    assert snapshot(page) == before
    assert client.post(url, practice_form(page, summary="x" * 600)).status_code == 302


def test_partner_clusters_offer_only_published_clusters(roles, client):
    hidden = ClusterPageFactory(parent=roles.site["clusters"], title="Unannounced cluster draft", live=False)
    source = ClusterPageFactory(parent=roles.site["clusters"], title="Some source platform", kind="source")
    source.save_revision().publish()
    html = add_form(client, roles.editor_a, roles.a)
    assert "Vojvodina ICT Cluster" in html
    assert hidden.title not in html and source.title not in html


def cluster_form(cluster, lists=None, **changes):
    data = {
        "title": cluster.title,
        "slug": cluster.slug,
        "description": rich_text("<p>We connect 60 ICT companies.</p>"),
        "website": "https://cluster.example.org",
        "city": "Novi Sad",
        "comments": inline_formset([]),
    }
    data.update(changes)
    data = nested_form_data(data)
    data.update(lists or {})  # several values for one name, as a checklist posts them
    return data


def test_cluster_editor_edits_own_profile_and_submits_it_not_curated_fields(roles, client):
    network = NetworkFactory(name="A network")
    j = Industry.objects.get(code="J")
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[roles.a.pk])
    response = client.post(
        url,
        cluster_form(
            roles.a, lists={"industries": [str(j.pk)], "networks": [str(network.pk)]}, kind="source"
        ),
    )
    assert response.status_code == 302
    content = ClusterPage.objects.get(pk=roles.a.pk).latest_revision.content
    assert content["city"] == "Novi Sad" and content["industries"] == [j.pk]
    assert content["kind"] == "cluster" and content["networks"] == []
    # Submitted for review like a practice, not published by its editor.
    lists = {"industries": [str(j.pk)]}
    assert client.post(url, cluster_form(roles.a, lists=lists, **{"action-submit": "s"})).status_code == 302
    page = Page.objects.get(pk=roles.a.pk).specific
    assert page.current_workflow_state is not None and page.city != "Novi Sad"


def test_cluster_profile_form_offers_the_profile_not_the_curated_fields(roles, client):
    login(client, roles.editor_a)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[roles.a.pk])).content.decode()
    assert 'name="description"' in html and 'name="industries"' in html and 'name="city"' in html
    assert 'name="kind"' not in html and 'name="networks"' not in html and 'name="is_example"' not in html
    login(client, roles.moderator)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[roles.a.pk])).content.decode()
    assert 'name="kind"' in html and 'name="networks"' in html


def test_cluster_editor_cannot_edit_another_clusters_profile(roles, client):
    before = snapshot(roles.b)
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[roles.b.pk])
    assert client.get(url).status_code in (302, 403)
    response = client.post(url, cluster_form(roles.b, city="Hacked"))
    assert response.status_code in (302, 403)
    assert snapshot(roles.b) == before
    assert ClusterPage.objects.get(pk=roles.b.pk).city != "Hacked"


def test_cluster_profile_shows_its_industries_and_counts(roles, client):
    cluster = ClusterPage.objects.get(pk=roles.a.pk)
    cluster.industries.set([Industry.objects.get(code="J")])
    cluster.networks.add(NetworkFactory(name="Danube ICT network"))
    cluster.save_revision().publish()
    html = client.get(cluster.url).content.decode()
    assert "J – Information and communication" in html
    assert "1 practice · 0 presentations · 1 network" in html  # the live one; drafts are not counted
