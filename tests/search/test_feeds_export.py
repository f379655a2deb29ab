"""Feeds and exports are saved searches: they show exactly the live public practices a search finds."""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json

import feedparser
import pytest

from django.utils import timezone

from wagtail.models import Page

from practices.factories import PageViewRestrictionFactory, make_site
from practices.models import ClusterPage, PracticePage
from search import service
from tests.imports import import_records, import_text

pytestmark = pytest.mark.django_db


def rec(n, **over):
    data = {
        "external_id": f"x-{n}",
        "title": f"Practice {n}",
        "summary": f"Summary of practice {n}.",
        "challenge": "Firms could not test alone.",
        "solution": "A shared lab.\nOpen on Fridays & Saturdays <always>.",
        "results": "",
        "transferability": "Works anywhere.",
        "cluster": "Cluj IT Cluster",
        "country": "RO",
        "industries": ["62"],
        "tags": ["cloud"],
        "organisation": "Cluj IT",
        "organisation_type": "Cluster",
        "language": "English",
        "year": 2016,
        "link": "https://example.org/p",
    }
    data.update(over)
    return data


RECORDS = [
    rec(1),
    rec(2, cluster="Vojvodina ICT Cluster", country="RS", industries=["E"], tags=["recycling", "Cloud"]),
    rec(3, countries=["RO", "XK"], industries_inferred=True, year=None, link=""),
    rec(4, cluster="Secret Cluster"),
]


@pytest.fixture(scope="module")
def feeds_kb_data(shared_db):
    tree = make_site()
    import_records(RECORDS, publish=True)
    # Newest first must follow first publication, so spread the dates.
    for n, page in enumerate(PracticePage.objects.order_by("external_id")):
        stamp = timezone.now() - datetime.timedelta(days=10 - n)
        Page.objects.filter(pk=page.pk).update(first_published_at=stamp, last_published_at=stamp)
    secret = ClusterPage.objects.get(title="Secret Cluster")
    PageViewRestrictionFactory(page=secret)
    import_records([rec(5, title="Draft practice")])
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def feeds_kb(feeds_kb_data, db):
    data = copy.deepcopy(feeds_kb_data)
    return data


def export_records(client, fmt="jsonl", **params):
    response = client.get(f"/export/practices.{fmt}", params)
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    if fmt == "jsonl":
        return [json.loads(line) for line in body.splitlines()]
    return list(csv.DictReader(io.StringIO(body)))


def test_export_holds_only_live_public_practices(feeds_kb, client):
    got = export_records(client)
    assert sorted(r["external_id"] for r in got) == ["x-1", "x-2", "x-3"]


def test_export_follows_the_search_parameters(feeds_kb, client):
    assert [r["external_id"] for r in export_records(client, cluster="vojvodina-ict-cluster")] == ["x-2"]
    assert sorted(r["external_id"] for r in export_records(client, country="RO")) == ["x-1", "x-3"]
    assert [r["external_id"] for r in export_records(client, sort="newest")] == ["x-3", "x-2", "x-1"]
    assert [r["external_id"] for r in export_records(client, q="practice 2")][:1] == ["x-2"]


def test_export_checks_the_database_too(feeds_kb, client):
    # Made private behind the index's back (no signal ran): still never exported.
    page = PracticePage.objects.get(external_id="x-1")
    PageViewRestrictionFactory(page=page, password="x")
    assert sorted(r["external_id"] for r in export_records(client)) == ["x-2", "x-3"]


def comparable(records):
    return {r["external_id"]: {k: v for k, v in r.items() if k != "url"} for r in records}


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_round_trip_into_an_empty_site(feeds_kb, client, fmt):
    exported = export_records(client, fmt=fmt)
    before = comparable(export_records(client))
    assert before["x-3"]["countries"] == ["RO", "XK"] and before["x-3"]["industries_inferred"] is True
    assert before["x-1"]["solution"] == "A shared lab.\nOpen on Fridays & Saturdays <always>."

    Page.objects.get(depth=2).delete()
    make_site()
    assert not PracticePage.objects.exists()
    if fmt == "jsonl":
        report = import_text("".join(json.dumps(r) + "\n" for r in exported), publish=True)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(exported[0]))
        writer.writeheader()
        writer.writerows(exported)
        report = import_text(buffer.getvalue(), fmt="csv", publish=True)
    assert report.summary() == "3 created, 0 updated, 0 unchanged, 0 rejected"
    service.rebuild(progress=False)
    assert comparable(export_records(client)) == before


def test_export_of_a_site_without_external_ids_gives_stable_ids(feeds_kb, client):
    page = PracticePage.objects.get(external_id="x-1")
    PracticePage.objects.filter(pk=page.pk).update(external_id="")
    ids = {r["external_id"] for r in export_records(client)}
    assert f"kb-{page.pk}" in ids


def parse_feed(client, kind="rss", **params):
    response = client.get(f"/feeds/practices/{kind}/", params)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_rss_and_atom_list_latest_practices(feeds_kb, client):
    rss = parse_feed(client, "rss")
    assert rss.version == "rss20"
    assert [e.title for e in rss.entries] == ["Practice 3", "Practice 2", "Practice 1"]
    assert rss.entries[0].link.endswith("/clusters/cluj-it-cluster/practice-3/")
    assert rss.entries[0].summary == "Summary of practice 3."

    atom = parse_feed(client, "atom")
    assert atom.version == "atom10"
    assert [e.title for e in atom.entries] == ["Practice 3", "Practice 2", "Practice 1"]
    assert {t.term for t in atom.entries[1].tags} == {"recycling", "cloud"}  # one tag, whatever the case
    assert atom.entries[1].author == "Vojvodina ICT Cluster"


def test_feeds_per_industry_cluster_and_tag(feeds_kb, client):
    assert [e.title for e in parse_feed(client, cluster="cluj-it-cluster").entries] == [
        "Practice 3",
        "Practice 1",
    ]
    # A division's practices are in its section's feed; the section may be named by code or slug.
    section_j = parse_feed(client, "atom", industry="J")
    assert [e.title for e in section_j.entries] == ["Practice 3", "Practice 1"]
    assert "Information and communication" in section_j.feed.title
    by_slug = parse_feed(
        client, industry="e-water-supply-sewerage-waste-management-and-remediation-activities"
    )
    assert [e.title for e in by_slug.entries] == ["Practice 2"]
    assert [e.title for e in parse_feed(client, tag="recycling").entries] == ["Practice 2"]


def test_feed_of_an_unknown_filter_is_missing(feeds_kb, client):
    assert client.get("/feeds/practices/rss/", {"cluster": "no-such-cluster"}).status_code == 404
    assert client.get("/feeds/practices/atom/", {"tag": "no-such-tag"}).status_code == 404


def test_csv_export_neutralises_formula_cells_and_imports_them_back_as_they_were(feeds_kb, client):
    hostile = {
        "x-6": '=HYPERLINK("http://evil.example","click")',
        "x-7": "+1+cmd|' /C calc'!A0",
        "x-8": "-2+3",
        "x-9": "@SUM(1)",
    }
    import_records([rec(int(k[2:]), title=v, organisation="=1+1") for k, v in hostile.items()], publish=True)
    service.rebuild(progress=False)
    rows = {r["external_id"]: r for r in export_records(client, fmt="csv")}
    for ident, title in hostile.items():
        assert rows[ident]["title"] == "'" + title
        assert rows[ident]["organisation"] == "'=1+1"
    assert rows["x-1"]["title"] == "Practice 1"  # ordinary cells untouched
    assert json_titles(export_records(client))["x-6"] == hostile["x-6"]  # JSON lines keep the text as is

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows["x-6"]))
    writer.writeheader()
    writer.writerows(rows[k] for k in hostile)
    Page.objects.filter(pk__in=PracticePage.objects.filter(external_id__in=hostile).values("pk")).delete()
    import_text(buffer.getvalue(), fmt="csv", publish=True)
    assert (
        dict(PracticePage.objects.filter(external_id__in=hostile).values_list("external_id", "title"))
        == hostile
    )


def json_titles(records):
    return {r["external_id"]: r["title"] for r in records}


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_with_a_junk_filter_value_exports_nothing(feeds_kb, client, fmt):
    assert export_records(client, fmt=fmt, country="ZZ") == []
    assert export_records(client, fmt=fmt, cluster="no-such-cluster", q="practice") == []
    assert export_records(client, fmt=fmt, industry="not-a-code") == []
    # A junk value beside a real one of the same facet adds nothing to it.
    assert sorted(r["external_id"] for r in export_records(client, fmt=fmt, country=["RO", "ZZ"])) == [
        "x-1",
        "x-3",
    ]


def test_a_feed_of_any_search_keeps_its_words_and_filters(feeds_kb, client, settings):
    settings.KB_BASE_URL = ""  # links on the request's own host
    feed = parse_feed(client, "atom", q="practice", country="RO", tag="cloud")
    assert [e.title for e in feed.entries] == ["Practice 3", "Practice 1"]
    assert feed.feed.title == "Latest practices matching “practice” from Romania tagged cloud"
    self_link = next(link.href for link in feed.feed.links if link.rel == "self")
    assert self_link.startswith("http://testserver/feeds/practices/atom/?")
    assert "q=practice" in self_link and "country=RO" in self_link and "tag=cloud" in self_link
    alternate = next(link.href for link in feed.feed.links if link.rel == "alternate")
    assert alternate.startswith("http://testserver/search/?") and "country=RO" in alternate
    # Item ids are absolute and the same whatever search lists the practice.
    ids = {e.title: e.id for e in feed.entries}
    assert ids["Practice 1"] == "http://testserver/clusters/cluj-it-cluster/practice-1/"
    everything = {e.title: e.id for e in parse_feed(client, "atom").entries}
    assert everything["Practice 1"] == ids["Practice 1"]


def test_feed_ids_use_the_configured_base_url(feeds_kb, client, settings):
    settings.KB_BASE_URL = "https://kb.example.org"
    feed = parse_feed(client, "rss", cluster="cluj-it-cluster")
    assert all(e.id.startswith("https://kb.example.org/clusters/cluj-it-cluster/") for e in feed.entries)


def test_the_search_page_links_the_feeds_of_its_search(feeds_kb, client):
    html = client.get("/search/", {"q": "practice", "country": "RO", "page": "1"}).content.decode()
    assert (
        'type="application/rss+xml" title="Practices of this search (RSS)" href="/feeds/practices/rss/?q=practice&amp;country=RO"'
        in html
    )
    assert (
        'href="/feeds/practices/atom/?q=practice&amp;country=RO" type="application/atom+xml">Atom</a>' in html
    )
