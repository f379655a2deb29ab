"""The search page: a plain GET form with facets, highlights from escaped text, picks, pagination."""

from __future__ import annotations

import copy

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail.contrib.search_promotions.models import Query as LoggedQuery

from practices.factories import PracticePageFactory
from practices.models import Industry
from search import service
from search.factories import SearchPromotionFactory
from search.models import ZeroResultSearch
from tests.search.test_visibility import build_kb


@pytest.fixture(scope="module")
def views_kb_data(shared_db):
    tree = build_kb()
    tree["xss"] = PracticePageFactory(
        parent=tree["cluj"],
        title="<script>alert(1)</script> telemedicine security",
        slug="xss",
        summary="Teaching <b>safe</b> telemedicine & review.",
    )
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def views_kb(views_kb_data, db):
    service.reset_engine()
    yield copy.deepcopy(views_kb_data)
    service.reset_engine()


def test_results_facets_and_escaped_highlights(views_kb, client):
    response = client.get("/search/", {"q": "telemedicine"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<mark>Telemedicine</mark> platform for rural clinics" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>telemedicine</mark> security" in html
    assert "<script>alert(1)" not in html and "<b>safe</b>" not in html
    assert 'name="cluster" value="cluj-it-cluster"' in html
    assert response.context["results"].total == 2
    # Private, draft and expired pages mentioning the word are neither shown nor counted.
    assert "Private telemedicine" not in html and "Draft telemedicine" not in html and "Expired" not in html


def test_a_search_that_finds_nothing_shows_no_country_map(views_kb, client):
    found = client.get("/search/", {"q": "telemedicine"}).content.decode()
    nothing = client.get("/search/", {"q": "zzzqqq"}).content.decode()
    assert 'id="search-map-title"' in found
    assert "Nothing matched" in nothing and 'id="search-map-title"' not in nothing


def test_facets_filter_and_keep_state(views_kb, client):
    response = client.get("/search/", {"q": "", "industry": "J", "sort": "title"})
    results = response.context["results"]
    assert {h.page_id for h in results.hits} == {views_kb["telemedicine"].pk}
    industry = {c.value: c for c in results.facets["industry"]}
    assert industry["J"].selected and industry["J"].count == 1
    # Disjunctive: the industry facet still counts the other industries.
    assert industry["E"].count == 1
    html = response.content.decode()
    assert 'value="J" data-autosubmit checked' in html
    assert '<option value="title" selected>' in html


def test_did_you_mean_and_correction(views_kb, client):
    response = client.get("/search/", {"q": "telemedcine"})
    results = response.context["results"]
    assert results.corrected_from == "telemedcine"
    assert results.correction == "telemedicine"
    assert results.total == 2
    html = response.content.decode()
    assert "Showing results for <strong>telemedicine</strong> (you searched <em>telemedcine</em>)" in html
    assert "results for “telemedcine”" not in html
    # The member can run the words as typed: autocorrect off, their own (empty) results.
    original = response.context["original_link"]
    assert "autocorrect=off" in original and "q=telemedcine" in original
    exact = client.get("/search/" + original)
    assert exact.context["results"].total == 0 and exact.context["results"].corrected_from is None
    assert "Did you mean" in exact.content.decode()
    # The API honours the same parameter and refuses a value it does not know.
    assert client.get("/api/search/", {"q": "telemedcine"}).json()["total"] == 2
    assert client.get("/api/search/", {"q": "telemedcine", "autocorrect": "off"}).json()["total"] == 0
    assert client.get("/api/search/", {"q": "telemedcine", "autocorrect": "maybe"}).status_code == 400


def test_editors_picks_above_results_only_when_public(views_kb, client):
    query = LoggedQuery.get("rural health")
    SearchPromotionFactory(
        query=query, page=views_kb["recycling"], description="Editors like it.", sort_order=0
    )
    SearchPromotionFactory(query=query, page=views_kb["private"], sort_order=1)
    # Past its expiry, though publish_scheduled has not unpublished it yet.
    SearchPromotionFactory(query=query, page=views_kb["expired"], sort_order=2)
    html = client.get("/search/", {"q": "Rural health"}).content.decode()
    assert "Editors like it." in html and "Recycling electronic waste" in html
    assert "Private telemedicine notes" not in html
    assert "Expired telemedicine offer" not in html


def test_every_search_is_logged_for_the_editors(views_kb, client):
    client.get("/search/", {"q": "Zebra crossings"})
    client.get("/search/", {"q": "zebra crossings"})
    assert LoggedQuery.get("zebra crossings").hits == 2


def test_pagination_links(views_kb, client):
    for n in range(25):
        PracticePageFactory(parent=views_kb["voj"], title=f"Hydroponics {n}", slug=f"hydro-{n}")
    service.rebuild(progress=False)
    response = client.get("/search/", {"q": "hydroponics", "country": "rs"})
    pages = response.context["pages"]
    assert pages["last"] == 2 or response.context["results"].total <= 20
    second = client.get("/search/", {"q": "hydroponics", "page": "2"})
    assert len(second.context["results"].hits) == 5
    first = client.get("/search/", {"q": "hydroponics"})
    assert "?q=hydroponics&amp;page=2" in first.content.decode()
    assert '1–20</span> of <span id="total">25</span> results' in first.content.decode()
    assert "21–25</span> of" in second.content.decode()
    numbers = [(p["number"], p["current"]) for p in second.context["pages"]["numbers"]]
    assert numbers == [(1, False), (2, True)]


def test_numbered_pages_keep_the_first_the_last_and_a_window():
    from search.query import Query
    from search.views import page_links

    pages = page_links(Query(text="x", page=10), total=20 * 30)
    shown = [p and p["number"] for p in pages["numbers"]]
    assert shown == [1, None, 8, 9, 10, 11, 12, None, 30]
    assert pages["numbers"][4]["current"] and "page=10" in pages["numbers"][4]["url"]


def test_bad_parameters_show_a_note_not_an_error(views_kb, client):
    response = client.get(
        "/search/", {"q": '"open (quote AND', "sort": "bogus", "page": "x", "industry": "ZZ"}
    )
    assert response.status_code == 200
    notes = " ".join(response.context["notes"])
    assert "Unknown sort" in notes and "Unknown industry 'ZZ'" in notes


def test_suggest_returns_titles_and_labels_of_visible_pages(views_kb, client):
    data = client.get("/search/suggest", {"q": "tele"}).json()
    texts = {s["text"] for s in data["suggestions"]}
    assert "Telemedicine platform for rural clinics" in texts
    assert not any("Private" in t or "Draft" in t for t in texts)
    assert client.get("/search/suggest", {"q": "\x00" * 500}).json() == {"suggestions": []}


def test_sql_queries_per_search_do_not_grow_with_hits_or_facet_values(views_kb, client, run_on_commit):
    def queries(params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/search/", params)
        assert response.status_code == 200
        return response.context["results"].total, len(ctx.captured_queries)

    def add_practices(numbers):
        for n in numbers:
            page = PracticePageFactory(
                parent=views_kb["cluj" if n % 2 else "voj"], title=f"Drone survey {n}", slug=f"drone-{n}"
            )
            page.industries.set([Industry.objects.get(code="62")])
            page.tags.add(f"tag-{n}")
            with run_on_commit():
                page.save_revision().publish()

    add_practices([0])
    queries({"q": "drone", "industry": "J"})  # the first search of a word also records the word
    one = queries({"q": "drone", "industry": "J"})
    add_practices(range(1, 26))
    many = queries({"q": "drone", "industry": "J"})
    assert one[0] == 1 and many[0] == 26
    assert many[1] == one[1]


def test_ticked_facet_values_are_listed_first(views_kb, client):
    response = client.get("/search/", {"q": "", "country": "RS"})
    countries = next(f for f in response.context["facets"] if f["name"] == "country")["values"]
    assert countries[0]["value"] == "RS" and countries[0]["selected"]
    assert {c["value"] for c in countries} >= {"RO", "RS"}
    assert all(not c["selected"] for c in countries[1:])


def test_chips_remove_one_filter_and_clear_all_removes_every_one(views_kb, client):
    response = client.get("/search/", {"q": "telemedicine", "country": ["RO", "RS"], "industry": "J"})
    chips = {(c["name"], c["value"]): c for c in response.context["chips"]}
    assert set(chips) == {("country", "RO"), ("country", "RS"), ("industry", "J")}
    assert chips[("country", "RO")]["label"] == "Romania"
    assert chips[("industry", "J")]["label"] == Industry.objects.get(code="J").name
    removed = client.get("/search/" + chips[("country", "RO")]["url"])
    assert dict(removed.context["query"].filters) == {"country": ("RS",), "industry": ("J",)}
    cleared = client.get("/search/" + response.context["clear_link"])
    assert dict(cleared.context["query"].filters) == {} and cleared.context["query"].text == "telemedicine"
    assert 'Filters <span class="filter-count">(3)</span>' in response.content.decode()


def test_industry_facet_is_a_tree_of_sections_with_divisions_beneath(views_kb, client):
    response = client.get("/search/", {"q": "telemedicine"})
    industry = next(f for f in response.context["facets"] if f["name"] == "industry")
    roots = {v["value"]: v for v in industry["values"] + industry["more"]}
    assert "62" not in roots
    assert [c["value"] for c in roots["J"]["children"]] == ["62"]
    assert roots["J"]["children"][0]["label"] == Industry.objects.get(code="62").name
    html = response.content.decode()
    assert html.index('value="J"') < html.index('class="facet-children"') < html.index('value="62"')


def test_a_hit_shows_type_publisher_country_and_industry_names(views_kb, client):
    response = client.get("/search/", {"q": "telemedicine platform"})
    card = next(c for c in response.context["cards"] if c["hit"].page_id == views_kb["telemedicine"].pk)
    assert (card["type"], card["publisher"], card["countries"]) == (
        "Practice",
        "Cluj IT Cluster",
        ["Romania"],
    )
    assert card["industries"] == [Industry.objects.get(code="62").name]
    assert card["year"] == 2021
    html = response.content.decode()
    assert "Romania" in html and Industry.objects.get(code="62").name in html


def test_every_value_of_a_long_facet_is_reachable(views_kb, client):
    from practices.models import PracticePage

    codes = ["AL", "AT", "BA", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR"]
    codes += ["HU", "IE", "IT", "LT", "LU", "LV", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "SE", "SI"]
    codes += ["SK", "TR", "UA", "XK", "GB", "IS", "LI", "RO", "RS"]
    for n, code in enumerate(codes):
        page = PracticePageFactory(
            parent=views_kb["voj"], title=f"Lab network {n}", slug=f"lab-{n}", countries=[code]
        )
        PracticePage.objects.get(pk=page.pk).save_revision().publish()
    service.rebuild(progress=False)
    response = client.get("/search/", {"q": "lab network"})
    country = next(f for f in response.context["facets"] if f["name"] == "country")
    assert country["size"] == len(codes) > 38
    values = {v["value"] for v in country["values"] + country["more"]}
    assert {"ME", "MT", "CH"} <= values and len(values) == len(codes)
    assert country["filterable"]
    html = response.content.decode()
    assert f"Show all {len(codes)}</summary>" in html and 'value="ME"' in html
    montenegro = client.get("/search/", {"q": "lab network", "country": "ME"})
    assert montenegro.context["results"].total == 1


@pytest.mark.parametrize(
    ("snippet", "titles", "expected"),
    [
        ("<mark>Recycling</mark> plan 2024 The plan starts", ("Recycling plan 2024",), "The plan starts"),
        (
            "Slide title: a &amp; b <mark>waste</mark>",
            ("Other", "Slide title"),
            "a &amp; b <mark>waste</mark>",
        ),
        ("Nothing to strip", ("Something",), "Nothing to strip"),
        ("Same", ("Same",), "Same"),
        ("Intro Intro\n<mark>a</mark> b", ("Intro",), "<mark>a</mark> b"),
    ],
)
def test_snippet_never_repeats_the_title(snippet, titles, expected):
    from search.views import without_leading

    assert without_leading(snippet, *titles) == expected


def test_api_searches_are_logged_like_the_pages(views_kb, client):
    client.get("/api/search/", {"q": "Zebra crossings"})
    client.get("/search/", {"q": "zebra crossings"})
    client.get("/api/search/", {"q": "zebra crossings", "page": "1"})
    assert LoggedQuery.get("zebra crossings").hits == 3
    assert ZeroResultSearch.objects.get(query_string="zebra crossings").hits == 3


def test_a_search_is_written_to_the_log_after_its_response_not_before(views_kb, rf):
    from django.core.signals import request_finished
    from django.db import close_old_connections

    from search import api, searchlog, views

    for view, path in ((views.search, "/search/"), (api.search, "/api/search/")):
        request = rf.get(path, {"q": "telemedicine"})
        before = LoggedQuery.get("telemedicine").hits
        response = view(request)
        assert response.status_code == 200
        # Answered, and nothing written yet: the count waits in the buffer.
        assert LoggedQuery.get("telemedicine").hits == before and searchlog.pending() == 1
        # What the WSGI server does once the response is sent; as Django's test client, without
        # close_old_connections, which would close the test's transaction on PostgreSQL.
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        assert LoggedQuery.get("telemedicine").hits == before + 1 and searchlog.pending() == 0


def test_buffered_searches_are_written_in_one_update_per_words_without_losing_counts(views_kb):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search import searchlog

    LoggedQuery.get("telemedicine").add_hit()
    for _ in range(5):
        searchlog.record("Telemedicine")
    with CaptureQueriesContext(connection) as queries:
        searchlog.flush()
    # SQLite's busy-timeout PRAGMAs around the flush are settings, not writes.
    assert len([q for q in queries if not q["sql"].startswith("PRAGMA")]) == 1
    assert LoggedQuery.get("telemedicine").hits == 6
    searchlog.record("zebra", found_nothing=True)
    searchlog.record("zebra", found_nothing=True)
    searchlog.flush()
    assert LoggedQuery.get("zebra").hits == 2
    assert ZeroResultSearch.objects.get(query_string="zebra").hits == 2


def test_counts_that_cannot_be_written_now_are_kept_for_the_next_flush(views_kb, monkeypatch):
    from django.db import DatabaseError

    from search import searchlog

    searchlog.record("telemedicine")
    real = searchlog._add_hits
    monkeypatch.setattr(searchlog, "_add_hits", lambda *a: (_ for _ in ()).throw(DatabaseError("locked")))
    searchlog.flush()
    assert searchlog.pending() == 1
    monkeypatch.setattr(searchlog, "_add_hits", real)
    searchlog.flush()
    assert searchlog.pending() == 0 and LoggedQuery.get("telemedicine").hits == 1
