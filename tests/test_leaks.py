"""Issue 14, "Leaks" to the public: one visibility rule (practices.visibility) behind every listing.

Each test below failed on commit 6220413 (before the rule) and passes with it.
"""

from __future__ import annotations

import copy
import datetime

import pytest

from django.core.files.base import ContentFile
from django.utils import timezone

from taggit.models import Tag
from wagtail.models import Page

from practices import visibility
from practices.factories import (
    ClusterPageFactory,
    KBDocumentFactory,
    PageViewRestrictionFactory,
    PracticeDocumentFactory,
    PracticePageFactory,
    RelatedPracticeFactory,
    make_site,
)
from practices.models import PracticePage
from search import service
from search.engines.fts5 import bitsets
from search.engines.tantivy import queries

pytestmark = pytest.mark.django_db

PAST = datetime.timedelta(hours=1)


def published(parent, title, slug, **kwargs):
    page = PracticePageFactory(parent=parent, title=title, slug=slug, **kwargs)
    page.save_revision().publish()
    return PracticePage.objects.get(pk=page.pk)


@pytest.fixture(scope="module")
def leaks_kb_data(shared_db):
    tree = make_site()
    cluj = ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster", slug="cluj")
    hidden = ClusterPageFactory(parent=tree["clusters"], title="Zqhidden Cluster", slug="zqhidden")
    shown = published(cluj, "Shared cloud lab", "lab", summary="Open lab.")
    shown.tags.add("cloud")
    shown.save_revision().publish()
    # Past its expiry, but publish_scheduled has not run yet: still live, expired=False.
    expired = published(cluj, "Zqexpired offer", "expired", summary="zqexpiredword")
    expired.tags.add("zqexpiredtag")
    expired.save_revision().publish()
    private = published(cluj, "Zqprivate notes", "private")
    PageViewRestrictionFactory(page=private)
    published(hidden, "Zqorphan practice", "orphan")
    draft = PracticePageFactory(parent=cluj, title="Zqdraft idea", slug="draft", live=False)
    draft.tags.add("zqdrafttag")
    draft.save_revision()
    Page.objects.filter(pk=hidden.pk).update(live=False)
    Page.objects.filter(pk=expired.pk).update(expire_at=timezone.now() - PAST)
    RelatedPracticeFactory(page=shown, related=expired, sort_order=0)
    RelatedPracticeFactory(page=shown, related=private, sort_order=1)
    shown.partner_clusters.set([hidden, cluj])
    shown.save()
    return {**tree, "cluj": cluj, "hidden": hidden, "shown": shown, "expired": expired}


@pytest.fixture
def leaks_kb(leaks_kb_data, db):
    service.reset_engine()
    data = copy.deepcopy(leaks_kb_data)
    yield data
    service.reset_engine()


HIDDEN = ("Zqexpired", "Zqprivate", "Zqorphan", "Zqdraft", "Zqhidden")


def assert_nothing_hidden(text: str):
    for word in HIDDEN:
        assert word not in text, word


def test_the_rule(leaks_kb):
    titles = set(visibility.visible(PracticePage.objects.all()).values_list("title", flat=True))
    assert titles == {"Shared cloud lab"}
    assert visibility.is_gone(leaks_kb["expired"]) and not visibility.is_gone(leaks_kb["shown"])
    assert set(visibility.visible_tags().values_list("name", flat=True)) == {"cloud"}
    # A page under an expired parent is gone with it.
    Page.objects.filter(pk=leaks_kb["cluj"].pk).update(expire_at=timezone.now() - PAST)
    assert not visibility.visible(PracticePage.objects.all()).exists()


def test_documents_follow_the_pages_that_use_them(leaks_kb):
    def doc(page, name):
        d = KBDocumentFactory(title=name, file=ContentFile(b"%PDF-1.4", name=f"{name}.pdf"))
        PracticeDocumentFactory(page=page, document=d)
        return d

    public, expired = doc(leaks_kb["shown"], "public"), doc(leaks_kb["expired"], "expired")
    assert visibility.is_document_visible(public)
    assert not visibility.is_document_visible(expired)
    assert list(visibility.visible_documents()) == [public]


def test_sitemap_home_cluster_and_listings_show_only_visible_pages(client, leaks_kb):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/clusters/cluj/lab/" in sitemap
    assert "expired" not in sitemap and "orphan" not in sitemap
    for url in ("/", "/clusters/cluj/", "/tags/cloud/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_nothing_hidden(response.content.decode())


def test_an_expired_page_and_pages_under_an_unpublished_cluster_are_not_served(client, leaks_kb):
    assert client.get("/clusters/cluj/lab/").status_code == 200
    assert client.get("/clusters/cluj/expired/").status_code == 404
    assert client.get("/clusters/zqhidden/orphan/").status_code == 404


def test_related_practices_and_partner_clusters_show_only_what_the_public_sees(client, leaks_kb):
    html = client.get("/clusters/cluj/lab/").content.decode()
    assert "Partner clusters" in html and "Cluj IT Cluster" in html
    assert_nothing_hidden(html)


def test_tags_only_hidden_pages_use_do_not_exist(client, leaks_kb):
    for tag in ("zqexpiredtag", "zqdrafttag"):
        assert Tag.objects.filter(name=tag).exists()
        assert client.get(f"/tags/{tag}/").status_code == 404
        assert client.get(f"/feeds/practices/rss/?tag={tag}").status_code == 404


def test_feed_of_an_unpublished_cluster_is_not_found(client, leaks_kb):
    assert client.get("/feeds/practices/rss/?cluster=cluj").status_code == 200
    response = client.get("/feeds/practices/atom/?cluster=zqhidden")
    assert response.status_code == 404
    assert_nothing_hidden(response.content.decode())


def test_spelling_suggestions_come_only_from_what_is_visible_now(client, leaks_kb, monkeypatch):
    later = timezone.now() + PAST
    Page.objects.filter(pk=leaks_kb["expired"].pk).update(expire_at=later)
    service.rebuild(progress=False)
    assert client.get("/api/search/?q=zqexpiredworx").json()["suggestion"] == "zqexpiredword"
    # The clock of whichever embedded engine is configured.
    clock = {"fts5": bitsets, "tantivy": queries}[service.get_engine().name]
    monkeypatch.setattr(clock, "now", lambda: (later + PAST).timestamp())
    body = client.get("/api/search/?q=zqexpiredworx").json()
    assert body["suggestion"] is None and body["total"] == 0
    assert "zqexpiredword" not in client.get("/search/?q=zqexpiredworx").content.decode()


def test_api_search_matches_only_what_the_public_sees(client, leaks_kb):
    service.rebuild(progress=False)
    shown = leaks_kb["shown"]
    shown.title = "Shared cloud lab renamed"
    shown.save_revision()  # a draft of a live page
    for q in ("renamed", "rena", "Zqhidden", "Zqexpired", "Zqorphan"):
        items = client.get("/api/v2/pages/", {"search": q}).json()["items"]
        assert items == [], q
    items = client.get("/api/v2/pages/", {"search": "cloud"}).json()["items"]
    assert [i["title"] for i in items] == ["Shared cloud lab"]


def test_api_search_operator_or_ranks_by_relevance(client, leaks_kb):
    published(leaks_kb["cluj"], "Plastic recycling hub", "plastic", summary="Recycling plastic bottles.")
    published(leaks_kb["cluj"], "Glass recycling", "glass", summary="Recycling glass.")
    service.rebuild(progress=False)
    response = client.get("/api/v2/pages/", {"search": "recycling plastic", "search_operator": "or"})
    assert response.status_code == 200, response.content
    assert [i["title"] for i in response.json()["items"]] == ["Plastic recycling hub", "Glass recycling"]
    both = client.get("/api/v2/pages/", {"search": "recycling plastic"}).json()["items"]
    assert [i["title"] for i in both] == ["Plastic recycling hub"]
    bad = client.get("/api/v2/pages/", {"search": "recycling", "search_operator": "xor"})
    assert bad.status_code == 400 and "search_operator" in bad.json()["message"]
