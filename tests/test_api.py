"""The read-only API v2, the rate limit, sitemap.xml and robots.txt."""

from __future__ import annotations

import copy
import datetime

import pytest

from django.utils import timezone

from wagtail.models import Page

from kb import ratelimit
from practices.factories import (
    ClusterPageFactory,
    EventPageFactory,
    ImageFactory,
    KBDocumentFactory,
    PageViewRestrictionFactory,
    PracticeDocumentFactory,
    PracticePageFactory,
    PresentationPageFactory,
    make_site,
)
from practices.models import Industry, KBDocument

pytestmark = pytest.mark.django_db


def document(title):
    return KBDocumentFactory(title=title)


@pytest.fixture(scope="module")
def api_kb_data(shared_db):
    tree = make_site()
    image = ImageFactory(title="Cluj logo")
    hidden_image = ImageFactory(title="Unused")
    cluj = ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster", slug="cluj", logo=image)
    practice = PracticePageFactory(
        parent=cluj,
        title="Shared cloud lab",
        slug="lab",
        summary="Firms share a lab.",
        countries=["RO", "XK"],
        start_year=2016,
        organisation="Cluj IT",
        source_link="https://example.org/lab",
    )
    practice.industries.set([Industry.objects.get(code="62")])
    practice.tags.add("cloud")
    PracticeDocumentFactory(page=practice, document__title="public-report")
    practice.save_revision().publish()

    draft = PracticePageFactory(parent=cluj, title="Draft idea", slug="draft", live=False)
    PracticeDocumentFactory(page=draft, document__title="draft-report")
    private = PracticePageFactory(parent=cluj, title="Private notes", slug="private")
    PracticeDocumentFactory(page=private, document__title="private-report")
    PageViewRestrictionFactory(page=private)
    document("loose-file")

    event = EventPageFactory(parent=tree["events"], title="Belgrade meeting", slug="belgrade")
    PresentationPageFactory(
        parent=event,
        title="Agritech talk",
        slug="agritech",
        presenting_cluster=cluj,
        slides=document("slides"),
    )
    return {"practice": practice, "draft": draft, "private": private, "image": image, "hidden": hidden_image}


@pytest.fixture
def api_kb(api_kb_data, db):
    data = copy.deepcopy(api_kb_data)
    return data


def titles(response):
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["items"])


def test_practice_fields_and_tags(api_kb, client):
    response = client.get("/api/v2/pages/", {"type": "practices.PracticePage", "fields": "*"})
    items = response.json()["items"]
    assert [i["title"] for i in items] == ["Shared cloud lab"]
    item = items[0]
    assert item["summary"] == "Firms share a lab."
    assert item["tags"] == ["cloud"]
    assert item["industries"] == [
        {"code": "62", "name": Industry.objects.get(code="62").name, "level": "division"}
    ]
    assert [c["code"] for c in item["countries"]] == ["RO", "XK"]
    assert item["cluster"] == {
        "id": api_kb["practice"].get_parent().pk,
        "title": "Cluj IT Cluster",
        "slug": "cluj",
        "kind": "cluster",
    }
    assert item["start_year"] == 2016 and item["source_link"] == "https://example.org/lab"
    assert item["meta"]["type"] == "practices.PracticePage"

    detail = client.get(f"/api/v2/pages/{api_kb['practice'].pk}/").json()
    assert detail["organisation"] == "Cluj IT" and detail["solution"] == "<p>Shared work.</p>"


def test_every_page_type_is_served(api_kb, client):
    assert titles(client.get("/api/v2/pages/", {"type": "practices.ClusterPage", "fields": "kind"})) == [
        "Cluj IT Cluster"
    ]
    assert titles(client.get("/api/v2/pages/", {"type": "practices.EventPage"})) == ["Belgrade meeting"]
    talk = client.get("/api/v2/pages/", {"type": "practices.PresentationPage", "fields": "*"}).json()[
        "items"
    ][0]
    assert talk["presenting_cluster"]["slug"] == "cluj" and talk["slides"]["title"] == "slides"


def test_drafts_and_private_pages_never_appear(api_kb, client):
    listed = titles(client.get("/api/v2/pages/", {"limit": 20}))
    assert "Draft idea" not in listed and "Private notes" not in listed
    assert "Shared cloud lab" in listed
    assert client.get(f"/api/v2/pages/{api_kb['draft'].pk}/").status_code == 404
    assert client.get(f"/api/v2/pages/{api_kb['private'].pk}/").status_code == 404
    found = client.get("/api/v2/pages/", {"search": "notes"}).json()["items"]
    assert all(i["title"] != "Private notes" for i in found)


def test_documents_only_when_a_live_public_page_shows_them(api_kb, client):
    assert titles(client.get("/api/v2/documents/")) == ["public-report", "slides"]
    hidden = KBDocument.objects.get(title="draft-report")
    assert client.get(f"/api/v2/documents/{hidden.pk}/").status_code == 404


def test_images_only_when_a_live_public_page_shows_them(api_kb, client):
    assert titles(client.get("/api/v2/images/")) == ["Cluj logo"]
    assert client.get(f"/api/v2/images/{api_kb['hidden'].pk}/").status_code == 404


def test_api_is_read_only(api_kb, client):
    response = client.post("/api/v2/pages/", {"title": "x"})
    assert response.status_code == 405


@pytest.fixture
def limited(settings):
    assert "kb.ratelimit.RateLimitMiddleware" in settings.MIDDLEWARE
    settings.KB_RATE_LIMIT_PER_MINUTE = settings.KB_SEARCH_RATE_LIMIT_PER_MINUTE = 3
    settings.KB_EXPORT_RATE_LIMIT_PER_MINUTE = 2
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_rate_limit_per_client_address(api_kb, client, limited):
    codes = [client.get("/api/v2/pages/", REMOTE_ADDR="10.0.0.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/feeds/practices/rss/", REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # Exports, the search page and autocomplete have limits of their own.
    exports = [client.get("/export/practices.csv", REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]
    assert exports == [200, 200, 429]
    searches = [client.get("/search/", {"q": "lab"}, REMOTE_ADDR="10.0.0.1").status_code for _ in range(2)]
    suggests = [
        client.get("/search/suggest", {"q": "la"}, REMOTE_ADDR="10.0.0.1").status_code for _ in range(2)
    ]
    assert searches + suggests == [200, 200, 200, 429]
    assert "at most 3 a minute" in client.get("/search/", REMOTE_ADDR="10.0.0.1").content.decode()
    # Another client is not starved, and pages outside the API are not counted.
    assert client.get("/api/v2/pages/", REMOTE_ADDR="10.0.0.2").status_code == 200
    assert client.get("/robots.txt", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_forwarded_address_counts_only_behind_trusted_proxies(api_kb, client, limited, settings):
    spoofed = [
        client.get("/api/v2/pages/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}").status_code
        for n in range(4)
    ]
    assert spoofed[-1] == 429
    settings.KB_TRUSTED_PROXIES = 1
    behind = [
        client.get(
            "/api/v2/pages/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"9.9.9.9, 2.2.2.{n}"
        ).status_code
        for n in range(4)
    ]
    assert behind == [200, 200, 200, 200]


def test_sitemap_lists_live_public_pages(api_kb, client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/clusters/cluj/lab/" in body
    assert "/clusters/cluj/draft/" not in body and "/clusters/cluj/private/" not in body


def test_robots_txt(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Disallow: /admin/" in lines
    assert any(line.startswith("Sitemap: http") and line.endswith("/sitemap.xml") for line in lines)


def test_a_page_past_its_expiry_leaves_the_api_before_publish_scheduled_runs(api_kb, client):
    practice = api_kb["practice"]
    past = timezone.now() - datetime.timedelta(minutes=1)
    Page.objects.filter(pk=practice.pk).update(expire_at=past)  # still live: publish_scheduled has not run
    assert "Shared cloud lab" not in titles(client.get("/api/v2/pages/", {"limit": 20}))
    assert client.get(f"/api/v2/pages/{practice.pk}/").status_code == 404
    assert "public-report" not in titles(client.get("/api/v2/documents/"))


def test_searching_refuses_an_undeclared_field_as_wagtail_documents_and_keeps_the_rest(api_kb, client):
    """Filtering or ordering a search by a page type's own field that is not a FilterField answers 400
    with Wagtail's message (as with Wagtail's own backends); fields every page has still work."""
    base = {"type": "practices.PracticePage", "search": "lab"}
    ordered = client.get("/api/v2/pages/", {**base, "order": "summary"})
    assert ordered.status_code == 400
    assert ordered.json() == {"message": "cannot order by 'summary' while searching (field is not indexed)"}
    filtered = client.get("/api/v2/pages/", {**base, "summary": "x"})
    assert filtered.status_code == 400
    assert "while searching (field is not indexed)" in filtered.json()["message"]
    by_title = client.get("/api/v2/pages/", {**base, "order": "title"})
    assert by_title.status_code == 200
    assert [p["id"] for p in by_title.json()["items"]] == [api_kb["practice"].pk]
