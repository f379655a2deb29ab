import copy
import json
import re
from html import escape, unescape

import feedparser
import pytest
from django_countries import countries

from django.core.management import call_command
from django.urls import reverse

from wagtail.test.utils import WagtailPageTestCase

from practices import ce_source
from practices.factories import (
    ClusterPageFactory,
    EventPageFactory,
    NetworkFactory,
    PageViewRestrictionFactory,
    PracticePageFactory,
    PresentationPageFactory,
    ThemePageFactory,
    UserFactory,
    make_site,
)
from practices.models import (
    ClusterIndexPage,
    ClusterPage,
    EventIndexPage,
    EventPage,
    HomePage,
    Industry,
    PracticePage,
    PresentationPage,
    ThemeIndexPage,
    ThemePage,
)
from practices.models.mixins import PER_PAGE
from search import service


class PageTreeRules(WagtailPageTestCase):
    def test_home_holds_the_index_pages(self):
        for child in (ClusterIndexPage, EventIndexPage, ThemeIndexPage):
            self.assertCanCreateAt(HomePage, child)
        self.assertCanNotCreateAt(HomePage, PracticePage)
        self.assertCanNotCreateAt(HomePage, ClusterPage)

    def test_practices_live_under_their_cluster(self):
        self.assertCanCreateAt(ClusterIndexPage, ClusterPage)
        self.assertCanCreateAt(ClusterPage, PracticePage)
        self.assertCanNotCreateAt(ClusterIndexPage, PracticePage)
        self.assertCanNotCreateAt(PracticePage, PracticePage)
        self.assertCanNotCreateAt(EventPage, PracticePage)

    def test_presentations_live_under_their_event(self):
        self.assertCanCreateAt(EventIndexPage, EventPage)
        self.assertCanCreateAt(EventPage, PresentationPage)
        self.assertCanNotCreateAt(ClusterPage, PresentationPage)
        self.assertCanNotCreateAt(ClusterIndexPage, EventPage)

    def test_themes_live_under_the_theme_index(self):
        self.assertCanCreateAt(ThemeIndexPage, ThemePage)
        self.assertCanNotCreateAt(HomePage, ThemePage)


@pytest.fixture(scope="module")
def pages_site_data(shared_db):
    tree = make_site()
    cluster = ClusterPageFactory(parent=tree["clusters"], title="Vojvodina ICT Cluster", city="Novi Sad")
    practice = PracticePageFactory(
        parent=cluster,
        title="Shared test lab for agritech",
        summary="Farmers and software firms share a lab.",
        contact_name="Ana Test",
        contact_email="ana.test@example.org",
        countries=["RS", "XK"],
        start_year=2016,
    )
    practice.industries.set(Industry.objects.filter(code__in=["A", "62"]))
    practice.tags.set(["agritech", "cloud"])
    practice.save_revision().publish()
    event = EventPageFactory(parent=tree["events"], title="Belgrade meeting", venue="Art Hotel Belgrade")
    event.guests.create(name="Guest Person", role="Guest role")
    event.save_revision().publish()
    presentation = PresentationPageFactory(
        parent=event,
        title="Agritech partnerships",
        presenting_cluster=cluster,
        abstract="<p>Slides talk.</p>",
    )
    presentation.industries.set(Industry.objects.filter(code="A"))
    presentation.tags.set(["agritech"])
    presentation.save_revision().publish()
    theme = ThemePageFactory(parent=tree["themes"], title="Agritech theme")
    theme.items.create(item=practice)
    theme.save_revision().publish()
    tree["home"].featured.create(page=practice)
    tree["home"].save_revision().publish()
    return {
        **tree,
        "cluster": cluster,
        "practice": practice,
        "event": event,
        "presentation": presentation,
        "theme": theme,
    }


@pytest.fixture
def pages_site(pages_site_data, db):
    return copy.deepcopy(pages_site_data)


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_every_page_type_renders_with_its_content(client, pages_site):
    home = get(client, "/")
    assert "Shared test lab for agritech" in home  # featured and latest
    assert "Belgrade meeting" in home
    assert "Information and communication" in home  # browse by industry

    assert "Vojvodina ICT Cluster" in get(client, pages_site["clusters"].url)
    cluster = get(client, pages_site["cluster"].url)
    assert (
        "Novi Sad" in cluster
        and "Shared test lab for agritech" in cluster
        and "Agritech partnerships" in cluster
    )

    practice = get(client, pages_site["practice"].url)
    for text in (
        "Farmers and software firms share a lab.",
        "Kosovo",
        "Serbia",
        "agritech",
        "2016",
        "Ana Test",
    ):
        assert text in practice

    assert "Belgrade meeting" in get(client, pages_site["events"].url)
    event = get(client, pages_site["event"].url)
    assert "Art Hotel Belgrade" in event and "Guest Person" in event and "Agritech partnerships" in event

    presentation = get(client, pages_site["presentation"].url)
    assert "Slides talk." in presentation and "Vojvodina ICT Cluster" in presentation

    assert "Agritech theme" in get(client, pages_site["themes"].url)
    assert "Shared test lab for agritech" in get(client, pages_site["theme"].url)


def test_industry_and_tag_listings(client, pages_site):
    section = Industry.objects.get(code="A")
    page = get(client, f"/industries/{section.slug}/")
    assert "Shared test lab for agritech" in page and "Agritech partnerships" in page
    # A practice filed under division 62 is listed under its section J as well.
    assert "Shared test lab for agritech" in get(
        client, f"/industries/{Industry.objects.get(code='J').slug}/"
    )
    assert "Shared test lab for agritech" not in get(
        client, f"/industries/{Industry.objects.get(code='B').slug}/"
    )
    assert "Shared test lab for agritech" in get(client, "/tags/agritech/")
    assert client.get("/tags/no-such-tag/").status_code == 404
    assert client.get("/industries/no-such-industry/").status_code == 404
    assert "Mining and quarrying" in get(client, "/industries/")


CARD_TITLE = re.compile(r'class="card-title"><a href="[^"]*">([^<]+)</a>')
MORE_THAN_A_PAGE = PER_PAGE + 5


def card_titles(html, prefix):
    return {t for t in CARD_TITLE.findall(html) if t.startswith(prefix)}


def assert_pages_through(client, url, param, prefix):
    """Page 1 holds a full page, page 2 the rest; a bad page number never breaks the listing."""
    first = get(client, url)
    second = get(client, f"{url}?{param}=2")
    on_first, on_second = card_titles(first, prefix), card_titles(second, prefix)
    assert len(on_first) == PER_PAGE, url
    assert on_first.isdisjoint(on_second)
    assert len(on_first | on_second) == MORE_THAN_A_PAGE
    assert f"{param}=2" in first and "Page 2 of 2" in second
    # Out of range shows the last page, not a number shows the first; neither is an error.
    assert card_titles(get(client, f"{url}?{param}=999"), prefix) == on_second
    assert card_titles(get(client, f"{url}?{param}=abc"), prefix) == on_first
    return first, second


@pytest.fixture(scope="class")
def crowded_data(pages_site_data, shared_class_db):
    """More practices and presentations than a page holds, in the site's cluster, industry A and tag."""
    pages_site = copy.deepcopy(pages_site_data)
    agriculture = Industry.objects.filter(code="A")
    for n in range(MORE_THAN_A_PAGE):
        practice = PracticePageFactory(parent=pages_site["cluster"], title=f"Paged practice {n:02d}")
        practice.industries.set(agriculture)
        practice.tags.set(["agritech"])
        practice.save()
        presentation = PresentationPageFactory(
            parent=pages_site["event"],
            title=f"Paged presentation {n:02d}",
            presenting_cluster=pages_site["cluster"],
        )
        presentation.industries.set(agriculture)
        presentation.tags.set(["agritech"])
        presentation.save()
    # The fixture's own practice and presentation are in the same lists: drop them from the count.
    pages_site["practice"].unpublish()
    pages_site["presentation"].unpublish()
    return pages_site


class TestPagination:
    """Listings crowded past a page: the pages they need are built once for the class."""

    @pytest.fixture
    def crowded(self, crowded_data, db):
        return copy.deepcopy(crowded_data)

    @pytest.mark.parametrize("listing", ["industry", "tag", "cluster"])
    def test_practices_and_presentations_paginate_apart(self, client, crowded, listing):
        url = {
            "industry": f"/industries/{Industry.objects.get(code='A').slug}/",
            "tag": "/tags/agritech/",
            "cluster": crowded["cluster"].url,
        }[listing]
        assert_pages_through(client, url, "page", "Paged practice")
        _, second = assert_pages_through(client, url, "ppage", "Paged presentation")
        # Paging presentations keeps the practices' place, and the reverse.
        assert "ppage=2&amp;page=2" in second
        both = get(client, f"{url}?page=2&ppage=2")
        assert len(card_titles(both, "Paged practice")) == len(card_titles(both, "Paged presentation")) == 5

    def test_event_page_paginates_its_presentations(self, client, crowded):
        assert_pages_through(client, crowded["event"].url, "page", "Paged presentation")


def test_contact_email_is_never_shown_the_form_relays_instead(client, pages_site):
    html = get(client, pages_site["practice"].url)
    assert "ana.test@example.org" not in html and "Contact the publisher" in html
    assert "sign in to see" not in html
    user = UserFactory(username="member")
    client.force_login(user)
    assert "ana.test@example.org" not in get(client, pages_site["practice"].url)


def test_drafts_and_private_pages_stay_out_of_listings(client, pages_site):
    draft = PracticePageFactory(parent=pages_site["cluster"], title="Unpublished draft practice", live=False)
    private = PracticePageFactory(parent=pages_site["cluster"], title="Members-only practice")
    PageViewRestrictionFactory(page=private, password="x")
    for url in ("/", pages_site["cluster"].url, "/tags/agritech/"):
        html = get(client, url)
        assert "Unpublished draft practice" not in html and "Members-only practice" not in html
    assert client.get(draft.url or "/clusters/x/unpublished-draft-practice/").status_code == 404


def test_404_page(client, pages_site):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


FEED_HEAD = re.compile(
    r'<link rel="alternate" type="application/(rss|atom)\+xml" title="[^"]*" href="([^"]+\?[^"]+)"'
)
FEED_BODY = re.compile(r'<a href="([^"]+\?[^"]+)" type="application/(rss|atom)\+xml">(?:RSS|Atom)</a>')


@pytest.fixture
def indexed(pages_site):
    other = ClusterPageFactory(parent=pages_site["clusters"], title="Other Cluster")
    unrelated = PracticePageFactory(parent=other, title="Unrelated mining practice")
    unrelated.industries.set(Industry.objects.filter(code="B"))
    unrelated.tags.set(["mining"])
    unrelated.save_revision().publish()
    service.reset_engine()
    service.rebuild(progress=False)
    yield pages_site
    service.reset_engine()


@pytest.mark.parametrize("listing", ["industry", "tag", "cluster"])
def test_filtered_pages_link_their_own_feeds(client, indexed, listing):
    url, param = {
        "industry": (f"/industries/{Industry.objects.get(code='A').slug}/", "industry=A"),
        "tag": ("/tags/agritech/", "tag=agritech"),
        "cluster": (indexed["cluster"].url, "cluster=vojvodina-ict-cluster"),
    }[listing]
    html = get(client, url)
    head = {kind: unescape(href) for kind, href in FEED_HEAD.findall(html)}
    body = {kind: unescape(href) for href, kind in FEED_BODY.findall(html)}
    assert set(head) == set(body) == {"rss", "atom"}
    assert head == body
    for kind, href in body.items():
        assert href.endswith("?" + param), href
        response = client.get(href)
        assert response.status_code == 200, href
        feed = feedparser.parse(response.content)
        assert feed.version == {"rss": "rss20", "atom": "atom10"}[kind] and not feed.bozo
        titles = [entry.title for entry in feed.entries]
        assert titles == ["Shared test lab for agritech"], (href, titles)


EXPORT_LINK = re.compile(
    r'<a href="(/export/practices\.(csv|jsonl)[^"]*)" download>Download (CSV|JSON lines)</a>'
)


def test_search_page_links_the_export_of_the_same_search(client, indexed):
    html = get(client, "/search/?q=lab&industry=a&sort=newest&page=2")
    links = {fmt: unescape(href) for href, fmt, _ in EXPORT_LINK.findall(html)}
    assert set(links) == {"csv", "jsonl"}
    for href in links.values():
        assert href.split("?", 1)[1] == "q=lab&industry=A&sort=newest", href
        response = client.get(href)
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode()
        assert "Shared test lab for agritech" in body and "Unrelated mining practice" not in body
    # Without a search, the links export everything.
    everything = {fmt: unescape(href) for href, fmt, _ in EXPORT_LINK.findall(get(client, "/search/"))}
    assert everything == {"csv": "/export/practices.csv", "jsonl": "/export/practices.jsonl"}


def test_cluster_page_lists_the_members_of_its_networks(client, pages_site):
    network = NetworkFactory(name="Test Clusters Network")
    pages_site["cluster"].networks.add(network)
    pages_site["cluster"].save_revision().publish()
    member = ClusterPageFactory(parent=pages_site["clusters"], title="Member Cluster")
    draft = ClusterPageFactory(parent=pages_site["clusters"], title="Draft Member Cluster", live=False)
    ClusterPageFactory(parent=pages_site["clusters"], title="Outside Cluster")
    for page in (member, draft):
        page.networks.add(network)
        page.save()

    html = get(client, pages_site["cluster"].url)
    assert "Test Clusters Network" in html
    assert f'<a href="{member.url}">Member Cluster</a>' in html
    assert "Draft Member Cluster" not in html and "Outside Cluster" not in html


def test_network_snippet_shows_its_member_clusters(client, pages_site):
    network = NetworkFactory(name="Test Clusters Network")
    draft = ClusterPageFactory(parent=pages_site["clusters"], title="Draft Member Cluster", live=False)
    for page in (pages_site["cluster"], draft):
        page.networks.add(network)
        page.save()
    client.force_login(UserFactory(username="admin", superuser=True))
    html = get(client, reverse("wagtailsnippets_practices_network:edit", args=[network.pk]))
    assert "Member clusters" in html
    assert "Vojvodina ICT Cluster" in html and "Draft Member Cluster</a> (draft)" in html
    empty = NetworkFactory(name="Empty network")
    assert "No cluster is recorded as a member yet." in get(
        client, reverse("wagtailsnippets_practices_network:edit", args=[empty.pk])
    )


def test_imported_circular_economy_practice_credits_its_source(client, pages_site, tmp_path):
    rec = next(r for r in ce_source.records() if r["country"] and r["organisation"] and r["link"])
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    call_command("import_practices", str(path), "--publish", verbosity=0)

    page = PracticePage.objects.get(external_id=rec["external_id"])
    publisher = page.get_parent().specific
    assert publisher.title == ce_source.PUBLISHER and publisher.kind == ClusterPage.KIND_SOURCE
    html = get(client, page.url)
    assert f'<a href="{publisher.url}">{ce_source.PUBLISHER}</a> (source platform)' in html
    assert f"<dd>{escape(rec['organisation'])}" in html
    assert f"<dd>{dict(countries)[rec['country']]}</dd>" in html
    assert f'<dt>Original</dt><dd><a href="{escape(rec["link"])}"' in html
    assert '<span class="badge">inferred</span>' in html
    for code in rec["industries"]:
        assert f"{code} {escape(Industry.objects.get(code=code).name)}</a>" in html
