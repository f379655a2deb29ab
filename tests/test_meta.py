"""Every page type names itself in its Open Graph title and carries a description."""

import re
from html import unescape

import pytest

from django.test import Client

from practices.factories import (
    ClusterPageFactory,
    EventPageFactory,
    PracticePageFactory,
    PresentationPageFactory,
    ThemePageFactory,
    make_site,
)
from practices.models import HomePage, Industry
from search import service

TITLE = re.compile(r"<title>(.*?) · Danube ICT Good Practices</title>", re.S)
OG_TITLE = re.compile(r'<meta property="og:title" content="([^"]*)">')
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')
OG_DESCRIPTION = re.compile(r'<meta property="og:description" content="([^"]*)">')


@pytest.fixture(scope="module")
def meta_pages_data(shared_db):
    tree = make_site()
    cluster = ClusterPageFactory(parent=tree["clusters"], title="Meta Cluster")
    practice = PracticePageFactory(parent=cluster, title="Meta practice", summary="A lab shared by firms.")
    practice.industries.set(Industry.objects.filter(code="A"))
    practice.tags.set(["agritech"])
    practice.save_revision().publish()
    event = EventPageFactory(parent=tree["events"], title="Meta meeting")
    presentation = PresentationPageFactory(
        parent=event, title="Meta presentation", presenting_cluster=cluster, abstract="<p>Slides.</p>"
    )
    theme = ThemePageFactory(parent=tree["themes"], title="Meta theme")
    service.rebuild(progress=False)
    return {
        "home": ("/", "Danube ICT Good Practice Knowledge Base"),
        "cluster index": (tree["clusters"].url, "Clusters"),
        "cluster": (cluster.url, "Meta Cluster"),
        "practice": (practice.url, "Meta practice"),
        "event index": (tree["events"].url, "Meetings"),
        "event": (event.url, "Meta meeting"),
        "presentation": (presentation.url, "Meta presentation"),
        "theme index": (tree["themes"].url, "Themes"),
        "theme": (theme.url, "Meta theme"),
        "industry index": ("/industries/", "Industries"),
        "industry": (
            f"/industries/{Industry.objects.get(code='A').slug}/",
            "Agriculture, forestry and fishing",
        ),
        "tag": ("/tags/agritech/", "Tagged “agritech”"),
        "search": ("/search/?q=lab", "Search: lab"),
        "404": ("/no/such/page/", "Page not found"),
    }


@pytest.fixture
def meta_pages(meta_pages_data, db):
    """Each kind of page, by its URL and the title it should give itself: built once per module."""
    service.reset_engine()
    yield meta_pages_data  # strings only: nothing a test could change
    service.reset_engine()


def meta(html):
    found = {}
    for name, pattern in (
        ("title", TITLE),
        ("og:title", OG_TITLE),
        ("description", DESCRIPTION),
        ("og:description", OG_DESCRIPTION),
    ):
        match = pattern.search(html)
        assert match, f"no {name}"
        found[name] = unescape(match.group(1)).strip()
    return found


@pytest.mark.parametrize(
    "kind",
    [
        "home",
        "cluster index",
        "cluster",
        "practice",
        "event index",
        "event",
        "presentation",
        "theme index",
        "theme",
        "industry index",
        "industry",
        "tag",
        "search",
        "404",
    ],
)
def test_open_graph_title_is_the_pages_own(client, meta_pages, kind):
    url, title = meta_pages[kind]
    response = client.get(url)
    assert response.status_code == (404 if kind == "404" else 200)
    tags = meta(response.content.decode())
    assert tags["title"] == title
    assert tags["og:title"] == title
    assert tags["description"] and tags["og:description"] == tags["description"]


def test_page_text_becomes_the_description(client, meta_pages):
    assert (
        meta(client.get(meta_pages["practice"][0]).content.decode())["description"]
        == "A lab shared by firms."
    )
    assert meta(client.get(meta_pages["presentation"][0]).content.decode())["description"] == "Slides."
    assert (
        "NACE Rev. 2 section A" in meta(client.get(meta_pages["industry"][0]).content.decode())["description"]
    )


def test_server_error_page_has_its_own_tags(meta_pages, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(HomePage, "get_context", broken)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert '<meta property="og:title" content="Server error">' in html
    assert re.search(r'<meta name="description" content="[^"]+">', html)
