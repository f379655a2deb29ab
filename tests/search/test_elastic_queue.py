"""The durable queue of index updates: kept while Elasticsearch is away, replayed in order once, after."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime

import pytest

from search import queue
from search.engines.base import DocumentPart, EngineUnavailable, Entry
from search.engines.elastic import ElasticEngine
from search.models import PendingIndexUpdate
from tests.search.fakes import PartialEngine
from tests.search.test_elastic_contract import LIVE

pytestmark = pytest.mark.django_db


def _dead_engine() -> ElasticEngine:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return ElasticEngine(f"http://127.0.0.1:{port}", index_prefix="kbq", timeout=0.5)


def _entry(page_id: int, title: str, **kw) -> Entry:
    return Entry(
        key=kw.pop("key", f"page:{page_id}"),
        page_id=page_id,
        type="practice",
        title=title,
        url=f"/p/{page_id}/",
        path=f"0001{page_id:04d}",
        summary="Summary",
        tags=("Health",),
        facets={"tag": ("health",), "year": ("2024",)},
        date=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        labels={"tag": {"health": "Health"}},
        **kw,
    )


def _enqueue(action: str, page_id: int, entries=()) -> PendingIndexUpdate:
    """One queued update written as the service's ``queue.submit_pages`` writes it, not yet replayed."""
    payload = {"entries": [queue.entry_to_json(e) for e in entries]} if action == queue.INDEX else {}
    return PendingIndexUpdate.objects.create(action=action, page_id=page_id, payload=payload)


class RecordingEngine(PartialEngine):
    """Takes updates in memory; fails on the calls numbered in ``fail_on`` as an outage would."""

    name = "recording"

    def __init__(self, fail_on: set[int] = frozenset()):
        self.calls: list[tuple] = []
        self.fail_on = set(fail_on)
        self.n = 0

    def _step(self, call):
        self.n += 1
        if self.n in self.fail_on:
            raise EngineUnavailable("down")
        self.calls.append(call)

    def remove_pages(self, page_ids):
        self._step(("remove", tuple(page_ids)))
        return 1

    def index(self, entries):
        entries = list(entries)
        self._step(("index", tuple((e.key, e.title) for e in entries)))
        return len(entries)


def test_entries_survive_the_json_payload_unchanged():
    part = DocumentPart(34, "slides.pptx", 7, "slide", "/documents/34/slides.pptx")
    entries = [
        _entry(12, "Telemedicine", expires=datetime(2026, 9, 30, 8, tzinfo=UTC)),
        _entry(12, "Slide 7", key="doc:12:34:7", document=part),
    ]
    row = _enqueue(queue.INDEX, 12, entries)
    row.refresh_from_db()
    assert [queue.entry_from_json(e) for e in row.payload["entries"]] == entries


def test_an_update_is_kept_when_nothing_listens():
    engine = _dead_engine()
    result = queue.submit_pages(engine, PendingIndexUpdate, {1: [_entry(1, "Kept")]})
    assert (result.applied, result.remaining) == (0, 1)
    assert result.error
    row = PendingIndexUpdate.objects.get()
    assert (row.action, row.page_id, row.attempts) == ("index", 1, 1)
    assert row.last_error == result.error
    assert queue.pending(PendingIndexUpdate) == 1


def test_queued_updates_replay_in_order_and_only_once():
    dead = _dead_engine()
    queue.submit_pages(dead, PendingIndexUpdate, {1: [_entry(1, "First title")]})
    queue.submit_pages(dead, PendingIndexUpdate, {2: []})
    queue.submit_pages(dead, PendingIndexUpdate, {1: [_entry(1, "Second title")]})
    assert queue.pending(PendingIndexUpdate) == 3

    back = RecordingEngine()
    result = queue.replay(back, PendingIndexUpdate, batch=1)
    assert (result.applied, result.remaining, result.error) == (3, 0, "")
    assert back.calls == [
        ("remove", (1,)),
        ("index", (("page:1", "First title"),)),
        ("remove", (2,)),
        ("remove", (1,)),
        ("index", (("page:1", "Second title"),)),
    ]
    again = queue.replay(back, PendingIndexUpdate, batch=1)
    assert again.applied == 0 and len(back.calls) == 5


def test_a_new_update_waits_behind_older_queued_ones():
    queue.submit_pages(_dead_engine(), PendingIndexUpdate, {7: []})
    back = RecordingEngine()
    result = queue.submit_pages(back, PendingIndexUpdate, {7: [_entry(7, "Republished")]})
    assert result.remaining == 0
    # The older removal first: the page ends up indexed, as its latest event says.
    assert back.calls[0] == ("remove", (7,))
    assert back.calls[-1] == ("index", (("page:7", "Republished"),))


def test_an_outage_midway_keeps_the_rest_in_order():
    for page_id in (1, 2, 3):
        _enqueue(queue.REMOVE, page_id)
    flaky = RecordingEngine(fail_on={2})
    result = queue.replay(flaky, PendingIndexUpdate, batch=1)
    assert (result.applied, result.remaining) == (1, 2)
    assert list(PendingIndexUpdate.objects.values_list("page_id", "attempts")) == [(2, 1), (3, 0)]
    later = RecordingEngine()
    assert queue.replay(later, PendingIndexUpdate, batch=1).applied == 2
    assert later.calls == [("remove", (2,)), ("remove", (3,))]


def test_replay_can_be_bounded():
    for page_id in (1, 2, 3):
        _enqueue(queue.REMOVE, page_id)
    back = RecordingEngine()
    assert queue.replay(back, PendingIndexUpdate, limit=2).remaining == 1
    assert back.calls == [("remove", (1, 2))]


class MemoryEngine(PartialEngine):
    """An index in a dict, to compare what batched and one-by-one replays leave behind."""

    name = "memory"

    def __init__(self):
        self.entries: dict[str, Entry] = {}

    def remove_pages(self, page_ids):
        ids = set(page_ids)
        gone = [k for k, e in self.entries.items() if e.page_id in ids]
        for k in gone:
            del self.entries[k]
        return len(gone)

    def index(self, entries):
        entries = list(entries)
        self.entries.update((e.key, e) for e in entries)
        return len(entries)


@pytest.mark.parametrize("seed", range(6))
def test_batched_replay_leaves_the_index_a_one_by_one_replay_would(seed):
    rng = random.Random(seed)
    updates = {}
    for n in range(40):
        page_id = rng.randint(1, 5)
        if rng.random() < 0.3:
            updates[n] = (page_id, [])
        else:
            parts = [
                _entry(page_id, f"Slide {p}", key=f"doc:{page_id}:9:{p}") for p in range(rng.randint(0, 3))
            ]
            updates[n] = (page_id, [_entry(page_id, f"Version {n}"), *parts])

    final = {}
    for batch in (1, 7, 100):
        for page_id, entries in updates.values():
            _enqueue(queue.INDEX if entries else queue.REMOVE, page_id, entries)
        engine = MemoryEngine()
        assert queue.replay(engine, PendingIndexUpdate, batch=batch).applied == 40
        final[batch] = engine.entries
    assert final[1] == final[7] == final[100]
    assert final[1]


def test_submit_pages_queues_each_page_and_applies_them():
    back = MemoryEngine()
    back.index([_entry(3, "Old", key="doc:3:1:1")])
    result = queue.submit_pages(back, PendingIndexUpdate, {2: [_entry(2, "Two")], 3: []})
    assert (result.applied, result.remaining) == (2, 0)
    assert set(back.entries) == {"page:2"}


def test_a_queued_update_reaches_elasticsearch_as_one_bulk_with_one_refresh():
    from tests.search.test_elastic_contract import ALIAS, FakeElasticsearch, FakeStore, _page_docs

    fake = FakeElasticsearch()
    try:
        store = FakeStore(fake, _page_docs(12, "Old title", parts=2))
        engine = ElasticEngine(fake.url, index_prefix="kbt", timeout=1.0)
        result = queue.submit_pages(engine, PendingIndexUpdate, {12: [_entry(12, "New title")]})
        assert (result.applied, result.remaining) == (1, 0)
        (bulk,) = fake.sent("PUT", "/_bulk")
        assert bulk["params"]["refresh"] == "true"
        assert store.keys(ALIAS) == {"page:12"}
        assert store.indices[LIVE]["page:12"]["title"] == "New title"
    finally:
        fake.close()


def _refusing(store, bad_key: str):
    """The store's bulk, except that one entry is refused as a mapping error would be."""

    def bulk(request):
        lines, kept, i = request["body"], [], 0
        while i < len(lines):
            ((op, meta),) = lines[i].items()
            pair = lines[i : i + (1 if op == "delete" else 2)]
            i += len(pair)
            if meta["_id"] != bad_key:
                kept += pair
        answer = store._bulk({**request, "body": kept})
        cause = {"type": "document_parsing_exception", "reason": "[1:40] failed to parse field [date]"}
        answer["items"].append({"index": {"_index": LIVE, "_id": bad_key, "status": 400, "error": cause}})
        answer["errors"] = True
        return answer

    return bulk


def test_a_refused_update_is_set_aside_after_max_attempts_and_the_rest_go_through():
    from tests.search.test_elastic_contract import ALIAS, FakeElasticsearch, FakeStore

    fake = FakeElasticsearch()
    try:
        store = FakeStore(fake)
        fake.on("PUT", "/_bulk", _refusing(store, "page:1"))
        engine = ElasticEngine(fake.url, index_prefix="kbt", timeout=1.0)
        _enqueue(queue.INDEX, 1, [_entry(1, "Poison")])
        _enqueue(queue.INDEX, 2, [_entry(2, "Fine")])
        _enqueue(queue.INDEX, 3, [_entry(3, "Also fine")])
        for attempt in range(1, queue.MAX_ATTEMPTS):
            result = queue.replay(engine, PendingIndexUpdate)
            assert (result.applied, result.remaining) == (0, 3)
            assert "could not index page:1" in result.error
            assert PendingIndexUpdate.objects.get(page_id=1).attempts == attempt
            # The rows behind it stay queued, in order (a whole-page state may be applied again).
            assert list(queue.queued(PendingIndexUpdate).values_list("page_id", flat=True)) == [1, 2, 3]
        result = queue.replay(engine, PendingIndexUpdate)
        assert (result.applied, result.remaining, result.error) == (2, 0, "")
        assert store.keys(ALIAS) == {"page:2", "page:3"}
        row = PendingIndexUpdate.objects.get()
        assert (row.page_id, row.attempts) == (1, queue.MAX_ATTEMPTS)
        assert row.failed_at is not None and "document_parsing_exception" in row.last_error
        assert (queue.pending(PendingIndexUpdate), queue.failed(PendingIndexUpdate)) == (0, 1)
        # Set aside for good: the next replay does not try it again.
        assert queue.replay(engine, PendingIndexUpdate).error == ""
        assert PendingIndexUpdate.objects.get().attempts == queue.MAX_ATTEMPTS
    finally:
        fake.close()


def test_an_outage_never_sets_an_update_aside():
    engine = _dead_engine()
    _enqueue(queue.REMOVE, 1)
    _enqueue(queue.REMOVE, 2)
    for _ in range(queue.MAX_ATTEMPTS + 1):
        assert queue.replay(engine, PendingIndexUpdate).remaining == 2
    assert list(PendingIndexUpdate.objects.values_list("page_id", "attempts", "failed_at")) == [
        (1, queue.MAX_ATTEMPTS + 1, None),
        (2, 0, None),
    ]
    assert queue.failed(PendingIndexUpdate) == 0
