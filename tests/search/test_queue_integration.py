"""With Elasticsearch as the main engine, publishing goes through the durable queue; nothing is lost."""

from __future__ import annotations

import copy
import socket

import pytest

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import escape

from wagtail.models import Page

from practices.factories import PracticePageFactory
from search import documents, service
from search.engines.base import EngineUnavailable
from search.models import PendingIndexUpdate
from search.service import registry
from tests.search.fakes import PartialEngine
from tests.search.test_visibility import build_kb


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class MemoryEngine(PartialEngine):
    """Elasticsearch as it would be once it answers again: entries by key, every write recorded."""

    name = "memory"
    queued_writes = True

    def __init__(self):
        self.entries = {}
        self.log: list[tuple] = []
        self.rebuilt_with = None

    def index(self, entries):
        entries = list(entries)
        for e in entries:
            self.entries[e.key] = e
        self.log.append(("index", sorted({e.page_id for e in entries})))
        return len(entries)

    def remove_pages(self, page_ids):
        page_ids = set(page_ids)
        gone = [k for k, e in self.entries.items() if e.page_id in page_ids]
        for k in gone:
            del self.entries[k]
        self.log.append(("remove", sorted(page_ids)))
        return len(gone)

    def rebuild(self, entries, *, expected_page_ids=None):
        self.entries = {e.key: e for e in entries}
        self.rebuilt_with = set(expected_page_ids) if expected_page_ids is not None else None
        return len(self.entries)

    def page_ids(self):
        return {e.page_id for e in self.entries.values()}

    def count(self):
        return len(self.entries)


@pytest.fixture(scope="module")
def queue_kb_data(shared_db):
    return build_kb()


@pytest.fixture
def es_down(queue_kb_data, db, settings, run_on_commit):
    """The small knowledge base (built once per module) with Elasticsearch selected and unreachable."""
    settings.ELASTICSEARCH_URL = _dead_url()
    settings.ELASTICSEARCH_TIMEOUT = 0.5
    service.reset_engine()
    tree = copy.deepcopy(queue_kb_data)
    # Only the embedded index can be built while Elasticsearch is away.
    service.fallback_engine().rebuild(documents.all_entries())

    tree["commit"] = run_on_commit
    yield tree
    service.reset_engine()


def publish_new(kb, title: str, slug: str):
    with kb["commit"]():
        page = PracticePageFactory(parent=kb["cluj"], title=title, slug=slug, live=False)
        page.save_revision().publish()
    return page


def test_publishing_while_elasticsearch_is_down_queues_the_update(es_down):
    assert service.get_engine().name == "elasticsearch"
    page = publish_new(es_down, "Drone mapping of vineyards", "drones")
    [row] = PendingIndexUpdate.objects.all()
    assert (row.action, row.page_id) == ("index", page.pk)
    assert row.attempts == 1 and "Elasticsearch" in row.last_error
    assert [e["title"] for e in row.payload["entries"]] == ["Drone mapping of vineyards"]
    # The fallback index took the update at once.
    assert page.pk in service.fallback_engine().page_ids()


def test_the_search_page_answers_from_the_fallback_with_a_notice(es_down, client):
    page = publish_new(es_down, "Drone mapping of vineyards", "drones")
    response = client.get("/search/", {"q": "vineyards"})
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(service.FALLBACK_NOTICE) in html
    assert page.url in html


def test_replay_applies_queued_updates_in_order_once(es_down, monkeypatch):
    kb = es_down
    first = publish_new(kb, "Drone mapping of vineyards", "drones")
    with kb["commit"]():
        Page.objects.get(pk=first.pk).specific.unpublish()
    second = publish_new(kb, "Robots in greenhouses", "robots")
    with kb["commit"]():
        Page.objects.get(pk=kb["recycling"].pk).delete()
    rows = list(PendingIndexUpdate.objects.values_list("action", "page_id"))
    assert rows[:3] == [("index", first.pk), ("remove", first.pk), ("index", second.pk)]
    # Deleting a live page is an unpublish and a delete: two removals, harmless to apply both.
    assert set(rows[3:]) == {("remove", kb["recycling"].pk)}

    memory = MemoryEngine()
    monkeypatch.setattr(registry, "get_engine", lambda: memory)
    call_command("search_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert PendingIndexUpdate.objects.count() == 0
    # The later removal of ``first`` won over its earlier publish; the recycling page left too.
    assert memory.page_ids() == {second.pk}
    # Replaying again applies nothing twice.
    call_command("search_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert memory.log.count(("index", [second.pk])) == 1


def test_the_next_update_replays_the_queue_first(es_down, monkeypatch):
    kb = es_down
    first = publish_new(kb, "Drone mapping of vineyards", "drones")
    assert PendingIndexUpdate.objects.count() == 1
    memory = MemoryEngine()
    monkeypatch.setattr(registry, "get_engine", lambda: memory)
    second = publish_new(kb, "Robots in greenhouses", "robots")
    assert PendingIndexUpdate.objects.count() == 0
    assert memory.page_ids() == {first.pk, second.pk}
    # The older update was applied before (or with) the newer one, never after it.
    first_seen = next(i for i, (_, ids) in enumerate(memory.log) if first.pk in ids)
    second_seen = next(i for i, (_, ids) in enumerate(memory.log) if second.pk in ids)
    assert first_seen <= second_seen


def test_search_sync_fails_loudly_while_elasticsearch_is_down(es_down):
    publish_new(es_down, "Drone mapping of vineyards", "drones")
    with pytest.raises(CommandError, match="did not take"):
        call_command("search_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert PendingIndexUpdate.objects.count() == 1


def test_rebuild_checks_expected_pages_and_drops_older_queue_rows(es_down, monkeypatch):
    kb = es_down
    page = publish_new(kb, "Drone mapping of vineyards", "drones")
    assert PendingIndexUpdate.objects.count() == 1
    memory = MemoryEngine()
    monkeypatch.setattr(registry, "get_engine", lambda: memory)
    service.rebuild(progress=False)
    expected = {kb["telemedicine"].pk, kb["recycling"].pk, kb["event"].pk, kb["presentation"].pk, page.pk}
    assert memory.rebuilt_with == expected
    assert memory.page_ids() == expected
    assert PendingIndexUpdate.objects.count() == 0
    # The embedded engine was rebuilt too.
    assert service.fallback_engine().page_ids() == expected


def test_a_failed_rebuild_keeps_the_queue(es_down):
    publish_new(es_down, "Drone mapping of vineyards", "drones")
    with pytest.raises(EngineUnavailable):
        service.rebuild(progress=False)
    assert PendingIndexUpdate.objects.count() == 1


def test_the_admin_health_panel_shows_the_outage_and_the_queue(es_down, admin_client):
    publish_new(es_down, "Drone mapping of vineyards", "drones")
    html = admin_client.get("/admin/").content.decode()
    assert "Search index" in html
    assert "elasticsearch (Search engine)" in html
    assert "no: Elasticsearch is unreachable" in html
    assert "<strong data-search-queued>1</strong>" in html
    # The fallback holds exactly the live public pages, so no mismatch warning for it.
    health = service.health()
    assert health["fallback"]["pages"] == health["live_pages"] == 5


def test_the_admin_health_panel_and_search_sync_show_updates_set_aside(es_down, admin_client):
    from io import StringIO

    from django.utils import timezone

    from search import queue

    page = publish_new(es_down, "Drone mapping of vineyards", "drones")
    PendingIndexUpdate.objects.filter(page_id=page.pk).update(
        attempts=queue.MAX_ATTEMPTS,
        failed_at=timezone.now(),
        last_error="Elasticsearch could not index page:9: <mapper_parsing_exception>",
    )
    html = admin_client.get("/admin/").content.decode()
    assert "<strong data-search-queued>0</strong>" in html
    assert "<strong data-search-failed>1</strong>" in html
    assert f"page {page.pk}: Elasticsearch could not index page:9: &lt;mapper_parsing_exception&gt;" in html
    out, err = StringIO(), StringIO()
    call_command("search_sync", stdout=out, stderr=err)
    assert "0 pending" in out.getvalue()
    assert "1 updates were refused" in err.getvalue()


def test_tests_never_write_the_sites_indices(es_down):
    engine = service.get_engine()
    assert engine.alias.startswith("kbtest-") and engine.alias != "kb-entries"
    assert engine.journal.startswith("kbtest-")
