"""Sites and editors' picks kept in each process: read once, read again after any change."""

from __future__ import annotations

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.models import Page, Site

from search import service
from search.factories import SearchPromotionFactory
from search.service import cached, searching


def test_kept_until_a_change_in_any_process(db):
    # Two KeptUntilSaved of one name share Django's cache as two gunicorn workers do.
    here, there = cached.KeptUntilSaved("test-two-processes"), cached.KeptUntilSaved("test-two-processes")
    reads = []

    def read(value):
        def compute():
            reads.append(value)
            return value

        return compute

    assert here.get("k", read(1)) == 1
    assert here.get("k", read(2)) == 1
    assert there.get("k", read(3)) == 3
    there.forget()  # a change saved in the other process
    assert here.get("k", read(4)) == 4
    assert there.get("k", read(5)) == 5
    assert reads == [1, 3, 4, 5]


def test_a_value_read_while_a_change_is_saved_is_not_kept(db):
    kept = cached.KeptUntilSaved("test-race")

    def read_during_a_change():
        kept.forget()
        return "old"

    assert kept.get("k", read_during_a_change) == "old"
    assert kept.get("k", lambda: "new") == "new"


def test_a_value_read_before_the_commit_is_read_again_after_it(db, run_on_commit):
    kept = cached.KeptUntilSaved("test-commit")
    with run_on_commit():
        kept.forget()
        # Another process reads now: it cannot see the change yet.
        assert kept.get("k", lambda: "before the commit") == "before the commit"
    assert kept.get("k", lambda: "after the commit") == "after the commit"


def test_keys_from_requests_are_bounded():
    kept = cached.KeptUntilSaved("test-bounded")
    for n in range(cached.MAX_KEYS * 3):
        kept.get(f"host-{n}.example", lambda: ())
    assert len(kept._values) <= cached.MAX_KEYS


@pytest.fixture
def two_sites(db):
    root = Page.get_first_root_node()
    home = root.add_child(instance=Page(title="Other home", slug="other-home"))
    second = root.add_child(instance=Page(title="Second home", slug="second-home"))
    site = Site.objects.create(hostname="other.example", port=80, root_page=home)
    return site, home, second


def test_each_site_searches_below_its_own_root_until_it_changes(two_sites, rf):
    site, home, second = two_sites
    request = rf.get("/search/", HTTP_HOST="other.example")
    assert service.within_for(request) == (home.path,)
    default = Site.objects.get(is_default_site=True)
    assert service.within_for(rf.get("/search/", HTTP_HOST="elsewhere.example")) == (default.root_page.path,)
    with CaptureQueriesContext(connection) as queries:
        assert service.within_for(rf.get("/search/", HTTP_HOST="other.example")) == (home.path,)
    assert len(queries) == 0
    site.root_page = second
    site.save()
    assert service.within_for(rf.get("/search/", HTTP_HOST="other.example")) == (second.path,)


def test_a_moved_site_root_is_searched_at_its_new_path(two_sites, rf):
    site, home, second = two_sites
    before = home.path
    assert service.within_for(rf.get("/search/", HTTP_HOST="other.example")) == (before,)
    home.move(second, pos="last-child")
    moved = Page.objects.get(pk=home.pk)
    assert moved.path != before
    assert service.within_for(rf.get("/search/", HTTP_HOST="other.example")) == (moved.path,)


def test_words_without_picks_ask_the_database_nothing(db):
    searching.promotions("warm up")  # the words with picks, read once
    with CaptureQueriesContext(connection) as queries:
        assert searching.promotions("no picks here") == []
    assert len(queries) == 0
    SearchPromotionFactory(
        query_string="no picks here",
        external_link_url="https://example.org/",
        external_link_text="Example",
        sort_order=0,
    )
    assert [p.title for p in searching.promotions("No picks  here")] == ["Example"]
    SearchPromotion.objects.all().delete()
    assert searching.promotions("no picks here") == []
