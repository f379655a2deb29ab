"""Keeping the index up to date: pages indexed or removed, changes owed and settled, the queue
replayed, and the whole index rebuilt."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from itertools import islice

from django.utils import timezone

from wagtail.models import Page

from search import documents, queue
from search.engines.base import Engine, EngineUnavailable, Entry
from search.query import Query

from . import registry

logger = logging.getLogger("search")

BATCH = 2000


def _batches(items: Iterable, size: int = BATCH):
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _write(engine: Engine, by_page: dict[int, list[Entry]]) -> int:
    """Apply pages' new states (no entries: the page leaves the index); through the durable queue for
    Elasticsearch, so an update it cannot take now is kept and replayed in order, never lost."""
    if engine.queued_writes:
        from search.models import PendingIndexUpdate

        result = queue.submit_pages(engine, PendingIndexUpdate, by_page)
        if result.error:
            logger.warning("index updates queued (%s pending): %s", result.remaining, result.error)
        return 0 if result.remaining else sum(len(v) for v in by_page.values())
    return engine.replace_pages(list(by_page), [e for es in by_page.values() for e in es])


def index_pages(pages: Iterable[Page | int]) -> int:
    """Bring these pages' entries up to date: index what may be indexed, remove the rest."""
    ids = sorted({p if isinstance(p, int) else p.pk for p in pages})
    if not ids:
        return 0
    written = 0
    for batch in _batches(ids):
        by_page: dict[int, list[Entry]] = {pid: [] for pid in batch}
        for entry in documents.iter_entries(batch):
            by_page[entry.page_id].append(entry)
        for engine in registry.engines():
            try:
                n = _write(engine, by_page)
            except EngineUnavailable:
                logger.warning(
                    "index: %s unavailable; `manage.py rebuild_search_index` repairs it", engine.name
                )
                continue
            if engine is registry.get_engine():
                written += n
    return written


def remove_pages(page_ids: Iterable[int]) -> int:
    ids = sorted({int(i) for i in page_ids})
    if not ids:
        return 0
    removed = 0
    for engine in registry.engines():
        try:
            n = _write(engine, {pid: [] for pid in ids})
        except EngineUnavailable:
            logger.warning("remove: %s unavailable; `manage.py rebuild_search_index` repairs it", engine.name)
            continue
        if engine is registry.get_engine():
            removed += n
    return removed


def owe(page_ids: Iterable[int]) -> list[int]:
    """Record, in the caller's transaction, that these pages' committed state must reach the index."""
    from search.models import UnindexedChange

    rows = UnindexedChange.objects.bulk_create(UnindexedChange(page_id=i) for i in sorted(set(page_ids)))
    return [r.pk for r in rows]


def settle(marks: Iterable[int], page_ids: Iterable[int]) -> int:
    """Index pages whose change was recorded with ``owe``, then drop the record: after a crash in
    between, the record is still there for ``catch_up``."""
    from search.models import UnindexedChange

    written = index_pages(page_ids)
    UnindexedChange.objects.filter(pk__in=list(marks)).delete()
    return written


def catch_up(chunk: int = 500) -> int:
    """Index every page whose recorded change never reached the index (a process killed between its
    commit and its index update); returns how many pages."""
    from search.models import UnindexedChange

    done = 0
    while rows := list(UnindexedChange.objects.order_by("id").values_list("pk", "page_id")[:chunk]):
        settle([pk for pk, _ in rows], {page_id for _, page_id in rows})
        done += len({page_id for _, page_id in rows})
    return done


def index_missing(page_ids: Iterable[int]) -> int:
    """Index those of these pages that the index lacks (what an old crash may have left out)."""
    missing = set(page_ids) - registry.get_engine().page_ids()
    return index_pages(missing) if missing else 0


def replay_queue(limit: int | None = None):
    """Apply the index updates Elasticsearch could not take yet (``manage.py search_sync``)."""
    from search.models import PendingIndexUpdate

    return queue.replay(registry.get_engine(), PendingIndexUpdate, limit=limit)


def _collecting(entries: Iterable[Entry], into: set[int]) -> Iterator[Entry]:
    for entry in entries:
        into.add(entry.page_id)
        yield entry


def rebuild(progress: bool = True, *, total: int | None = None) -> dict[str, int]:
    """Rebuild every engine's index from the live public pages, aside, then swap it in.

    Each engine checks its new index against the expected pages: those ``search.documents`` found
    indexable while the entries streamed, complete by the time the engine checks, after it has
    consumed them. Queued updates older than a successful rebuild of an engine whose writes are
    queued are dropped: the rebuild read newer states of those pages.
    """
    from search.models import PendingIndexUpdate, UnindexedChange

    counts: dict[str, int] = {}
    began = timezone.now()
    for engine in registry.engines():
        started = timezone.now()
        expected: set[int] = set()
        entries: Iterable[Entry] = _collecting(documents.all_entries(), expected)
        if progress:
            from tqdm import tqdm

            entries = tqdm(entries, total=total, desc=f"Indexing ({engine.name})", unit=" entries")
        counts[engine.name] = engine.rebuild(entries, expected_page_ids=expected)
        if engine.queued_writes:
            PendingIndexUpdate.objects.filter(created_at__lt=started).delete()
    # Changes committed before the rebuild began are in it.
    UnindexedChange.objects.filter(created_at__lt=began).delete()
    return counts


def page_ids_with(facet: str, value: str, within: tuple[str, ...] = ()) -> set[int]:
    """Ids of indexed pages carrying a facet value (what a theme's or label's change affects)."""
    ids: set[int] = set()
    page = 1
    while True:
        q = Query(
            filters={facet: (value,)},
            per_page=500,
            page=page,
            within=within,
            with_facets=False,
            with_highlights=False,
        )
        results = registry.get_engine().search(q)
        ids.update(h.page_id for h in results.hits)
        if page * 500 >= results.total or not results.hits:
            return ids
        page += 1
