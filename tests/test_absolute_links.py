"""Links that leave the site (feeds, exports, the API, the sitemap, robots.txt) use KB_BASE_URL, never the
Wagtail Site record's host (``localhost``) or the request's Host header; documents carry no
``Content-Encoding: None``."""

import copy
import json
import re

import feedparser
import pytest

from django.core.files.base import ContentFile

from practices.factories import ClusterPageFactory, PracticeDocumentFactory, PracticePageFactory, make_site
from search import service

pytestmark = pytest.mark.django_db

BASE = "https://kb.example.org"


@pytest.fixture(scope="module")
def links_practice_data(shared_db):
    tree = make_site()  # its Site record says localhost:80
    cluster = ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster", slug="cluj")
    cluster.save_revision().publish()
    page = PracticePageFactory(parent=cluster, title="Shared cloud lab", slug="lab")
    attached = PracticeDocumentFactory(
        page=page, document__title="report", document__file=ContentFile(b"%PDF-1.4 test", name="report.pdf")
    )
    page.save_revision().publish()
    service.rebuild(progress=False)
    page.document = attached.document
    return page


@pytest.fixture
def practice(links_practice_data, db, settings):
    """A published practice with a document, indexed (built once per module), on a site whose base URL
    differs from its Site record's host."""
    settings.KB_BASE_URL = settings.WAGTAILAPI_BASE_URL = BASE
    service.reset_engine()
    yield copy.deepcopy(links_practice_data)
    service.reset_engine()


def urls_in(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>]+", text))


def assert_on_base(urls):
    assert urls, "no absolute link found"
    # XML namespaces are names, not links.
    namespaces = ("http://www.w3.org/", "http://www.sitemaps.org/", "http://purl.org/")
    assert {u for u in urls if not u.startswith((BASE, *namespaces))} == set()


def test_feeds_link_to_the_base_url(client, practice):
    for kind in ("rss", "atom"):
        response = client.get(f"/feeds/practices/{kind}/", HTTP_HOST="attacker.example")
        feed = feedparser.parse(response.content)
        assert feed.entries[0].link == f"{BASE}/clusters/cluj/lab/"
        assert feed.feed.link.startswith(f"{BASE}/search/")
        assert_on_base(urls_in(response.content.decode()))


def test_exports_link_to_the_base_url(client, practice):
    response = client.get("/export/practices.jsonl")
    record = json.loads(b"".join(response.streaming_content))
    assert record["url"] == f"{BASE}/clusters/cluj/lab/"


def test_the_api_links_to_the_base_url(client, practice):
    item = client.get("/api/v2/pages/", {"type": "practices.PracticePage"}).json()["items"][0]
    assert item["meta"]["html_url"] == f"{BASE}/clusters/cluj/lab/"
    assert item["meta"]["detail_url"] == f"{BASE}/api/v2/pages/{practice.pk}/"
    doc = client.get("/api/v2/documents/").json()["items"][0]
    assert doc["meta"]["download_url"].startswith(f"{BASE}/documents/")


def test_the_sitemap_and_robots_txt_link_to_the_base_url(client, practice):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert f"<loc>{BASE}/clusters/cluj/lab/</loc>" in sitemap
    assert_on_base(urls_in(sitemap))
    assert f"Sitemap: {BASE}/sitemap.xml" in client.get("/robots.txt").content.decode()


def test_a_served_document_has_no_content_encoding_none(client, practice):
    response = client.get(practice.document.url)
    assert response.status_code == 200
    assert response.get("Content-Encoding") != "None"
    assert "Content-Encoding" not in response
