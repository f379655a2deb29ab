"""Zero-result searches are counted and shown to the editors who can answer them with a pick."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.models import Group
from django.utils import timezone

from practices.factories import UserFactory
from practices.permissions import ensure_cluster_roles, ensure_moderators
from search.factories import SearchPromotionFactory
from search.models import ZeroResultSearch


def login_as(client, group: Group, name: str):
    user = UserFactory(username=name, groups=[group])
    client.force_login(user)
    return user


def test_a_search_without_results_is_counted_per_day(kb, client):
    for _ in range(2):
        client.get("/search/", {"q": "Quantum  BLOCKCHAIN"})
    client.get("/search/", {"q": "quantum blockchain", "page": 2})
    client.get("/search/", {"q": "telemedicine"})
    client.get("/search/", {"industry": "J"})
    [row] = ZeroResultSearch.objects.all()
    assert (row.query_string, row.date, row.hits) == ("quantum blockchain", timezone.localdate(), 2)


def test_a_corrected_typo_that_found_results_is_not_counted(kb, client):
    response = client.get("/search/", {"q": "telemedicin"})
    assert response.context["results"].total >= 1
    assert not ZeroResultSearch.objects.exists()


def test_the_api_counts_like_the_page(kb, client):
    # Every search is logged, the API's too (README, "Editors' picks"): issue 12.
    client.get("/api/search/", {"q": "zeppelin"})
    client.get("/api/search/", {"q": "telemedicin"})  # corrected and found: not a zero result
    [row] = ZeroResultSearch.objects.all()
    assert (row.query_string, row.hits) == ("zeppelin", 1)


def test_superuser_sees_the_report_with_links_to_add_a_pick(kb, client, admin_client):
    client.get("/search/", {"q": "zeppelin"})
    client.get("/search/", {"q": "hovercraft"})
    client.get("/search/", {"q": "hovercraft"})
    html = admin_client.get("/admin/reports/search-no-results/").content.decode()
    assert "Searches with no results" in html
    assert html.index("hovercraft") < html.index("zeppelin")  # most searched first
    add = "/admin/reports/search-no-results/pick/?" + urlencode({"query": "zeppelin"})
    assert add.replace("&", "&amp;") in html or add in html
    form = admin_client.get(add)
    assert form.status_code == 200
    assert form.context["form"]["query_string"].value() == "zeppelin"


def test_a_term_that_already_has_picks_links_to_editing_them(kb, client, admin_client):
    client.get("/search/", {"q": "zeppelin"})
    query = SearchPromotionFactory(query_string="zeppelin", page=kb["telemedicine"], sort_order=0).query
    html = admin_client.get("/admin/reports/search-no-results/").content.decode()
    assert f"/admin/searchpicks/{query.pk}/" in html


def test_moderators_reach_both_search_reports_from_the_reports_menu(kb, client):
    client.get("/search/", {"q": "zeppelin"})
    client.get("/search/", {"q": "telemedicine"})
    login_as(client, ensure_moderators(), "moderator")
    home = client.get("/admin/").content.decode()
    assert "/admin/reports/search-no-results/" in home
    assert "/admin/reports/search-popular/" in home
    # Wagtail's own, superuser-only, entry is replaced by ours.
    assert "/admin/searchpicks/reports/search-terms/" not in home
    assert "zeppelin" in client.get("/admin/reports/search-no-results/").content.decode()
    popular = client.get("/admin/reports/search-popular/")
    assert popular.status_code == 200
    assert "telemedicine" in popular.content.decode()
    assert client.get("/admin/reports/search-no-results/pick/?query=zeppelin").status_code == 200


def test_a_cluster_editor_sees_neither_report(kb, client):
    client.get("/search/", {"q": "zeppelin"})
    group, _ = ensure_cluster_roles(kb["cluj"])
    login_as(client, group, "editor")
    home = client.get("/admin/").content.decode()
    assert "/admin/reports/search-no-results/" not in home
    for url in ("/admin/reports/search-no-results/", "/admin/reports/search-popular/"):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert "zeppelin" not in response.content.decode()


def test_popular_searches_link_each_term_to_its_picks(kb, client, admin_client):
    client.get("/search/", {"q": "telemedicine"})
    client.get("/search/", {"q": "zeppelin"})
    query = SearchPromotionFactory(query_string="telemedicine", page=kb["telemedicine"], sort_order=0).query
    html = admin_client.get("/admin/reports/search-popular/").content.decode()
    assert f'href="/admin/searchpicks/{query.pk}/"' in html
    add = "/admin/reports/search-no-results/pick/?" + urlencode({"query": "zeppelin"})
    assert f'href="{add}"' in html
