"""The search page: a plain GET form with facets, highlights from escaped text, picks, pagination."""

from __future__ import annotations

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail.contrib.search_promotions.models import Query as LoggedQuery
from wagtail.contrib.search_promotions.models import SearchPromotion

from practices.factories import PracticePageFactory
from practices.models import Industry
from search import service
from search.models import ZeroResultSearch
from tests.search.test_visibility import build_kb


@pytest.fixture
def kb(db):
    service.reset_engine()
    tree = build_kb()
    tree["xss"] = PracticePageFactory(
        parent=tree["cluj"],
        title="<script>alert(1)</script> telemedicine security",
        slug="xss",
        summary="Teaching <b>safe</b> telemedicine & review.",
    )
    service.rebuild(progress=False)
    yield tree
    service.reset_engine()


def test_results_facets_and_escaped_highlights(kb, client):
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


def test_facets_filter_and_keep_state(kb, client):
    response = client.get("/search/", {"q": "", "industry": "J", "sort": "title"})
    results = response.context["results"]
    assert {h.page_id for h in results.hits} == {kb["telemedicine"].pk}
    industry = {c.value: c for c in results.facets["industry"]}
    assert industry["J"].selected and industry["J"].count == 1
    # Disjunctive: the industry facet still counts the other industries.
    assert industry["E"].count == 1
    html = response.content.decode()
    assert 'value="J" data-autosubmit checked' in html
    assert '<option value="title" selected>' in html


def test_did_you_mean_and_correction(kb, client):
    response = client.get("/search/", {"q": "telemedcine"})
    results = response.context["results"]
    assert results.corrected_from == "telemedcine"
    assert results.correction == "telemedicine"
    assert results.total == 2
    assert "Search instead for" in response.content.decode()


def test_editors_picks_above_results_only_when_public(kb, client):
    query = LoggedQuery.get("rural health")
    SearchPromotion.objects.create(
        query=query, page=kb["recycling"], description="Editors like it.", sort_order=0
    )
    SearchPromotion.objects.create(query=query, page=kb["private"], sort_order=1)
    # Past its expiry, though publish_scheduled has not unpublished it yet.
    SearchPromotion.objects.create(query=query, page=kb["expired"], sort_order=2)
    html = client.get("/search/", {"q": "Rural health"}).content.decode()
    assert "Editors like it." in html and "Recycling electronic waste" in html
    assert "Private telemedicine notes" not in html
    assert "Expired telemedicine offer" not in html


def test_every_search_is_logged_for_the_editors(kb, client):
    client.get("/search/", {"q": "Zebra crossings"})
    client.get("/search/", {"q": "zebra crossings"})
    assert LoggedQuery.get("zebra crossings").hits == 2


def test_pagination_links(kb, client):
    for n in range(25):
        PracticePageFactory(parent=kb["voj"], title=f"Hydroponics {n}", slug=f"hydro-{n}")
    service.rebuild(progress=False)
    response = client.get("/search/", {"q": "hydroponics", "country": "rs"})
    pages = response.context["pages"]
    assert pages["last"] == 2 or response.context["results"].total <= 20
    second = client.get("/search/", {"q": "hydroponics", "page": "2"})
    assert len(second.context["results"].hits) == 5
    assert "?q=hydroponics&amp;page=2" in client.get("/search/", {"q": "hydroponics"}).content.decode()


def test_bad_parameters_show_a_note_not_an_error(kb, client):
    response = client.get(
        "/search/", {"q": '"open (quote AND', "sort": "bogus", "page": "x", "industry": "ZZ"}
    )
    assert response.status_code == 200
    notes = " ".join(response.context["notes"])
    assert "Unknown sort" in notes and "Unknown industry 'ZZ'" in notes


def test_suggest_returns_titles_and_labels_of_visible_pages(kb, client):
    data = client.get("/search/suggest", {"q": "tele"}).json()
    texts = {s["text"] for s in data["suggestions"]}
    assert "Telemedicine platform for rural clinics" in texts
    assert not any("Private" in t or "Draft" in t for t in texts)
    assert client.get("/search/suggest", {"q": "\x00" * 500}).json() == {"suggestions": []}


def test_sql_queries_per_search_do_not_grow_with_hits_or_facet_values(
    kb, client, django_capture_on_commit_callbacks
):
    def queries(params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/search/", params)
        assert response.status_code == 200
        return response.context["results"].total, len(ctx.captured_queries)

    def add_practices(numbers):
        for n in numbers:
            page = PracticePageFactory(
                parent=kb["cluj" if n % 2 else "voj"], title=f"Drone survey {n}", slug=f"drone-{n}"
            )
            page.industries.set([Industry.objects.get(code="62")])
            page.tags.add(f"tag-{n}")
            with django_capture_on_commit_callbacks(execute=True):
                page.save_revision().publish()

    add_practices([0])
    queries({"q": "drone", "industry": "J"})  # the first search of a word also records the word
    one = queries({"q": "drone", "industry": "J"})
    add_practices(range(1, 26))
    many = queries({"q": "drone", "industry": "J"})
    assert one[0] == 1 and many[0] == 26
    assert many[1] == one[1]


def test_ticked_facet_values_are_listed_first(kb, client):
    response = client.get("/search/", {"q": "", "country": "RS"})
    countries = next(f for f in response.context["facets"] if f["name"] == "country")["values"]
    assert countries[0]["value"] == "RS" and countries[0]["selected"]
    assert {c["value"] for c in countries} >= {"RO", "RS"}
    assert all(not c["selected"] for c in countries[1:])


def test_api_searches_are_logged_like_the_pages(kb, client):
    client.get("/api/search/", {"q": "Zebra crossings"})
    client.get("/search/", {"q": "zebra crossings"})
    client.get("/api/search/", {"q": "zebra crossings", "page": "1"})
    assert LoggedQuery.get("zebra crossings").hits == 3
    assert ZeroResultSearch.objects.get(query_string="zebra crossings").hits == 3


def test_a_search_is_written_to_the_log_after_its_response_not_before(kb, rf):
    from search import api, searchlog, views

    for view, path in ((views.search, "/search/"), (api.search, "/api/search/")):
        request = rf.get(path, {"q": "telemedicine"})
        before = LoggedQuery.get("telemedicine").hits
        response = view(request)
        assert response.status_code == 200
        # Answered, and nothing written yet: the count waits in the buffer.
        assert LoggedQuery.get("telemedicine").hits == before and searchlog.pending() == 1
        response.close()  # what the WSGI server does once the response is sent
        assert LoggedQuery.get("telemedicine").hits == before + 1 and searchlog.pending() == 0


def test_buffered_searches_are_written_in_one_update_per_words_without_losing_counts(
    kb, django_assert_num_queries
):
    from search import searchlog

    LoggedQuery.get("telemedicine").add_hit()
    for _ in range(5):
        searchlog.record("Telemedicine")
    with django_assert_num_queries(1):
        searchlog.flush()
    assert LoggedQuery.get("telemedicine").hits == 6
    searchlog.record("zebra", found_nothing=True)
    searchlog.record("zebra", found_nothing=True)
    searchlog.flush()
    assert LoggedQuery.get("zebra").hits == 2
    assert ZeroResultSearch.objects.get(query_string="zebra").hits == 2


def test_counts_that_cannot_be_written_now_are_kept_for_the_next_flush(kb, monkeypatch):
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
