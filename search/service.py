"""The one search interface: every caller (page, API, feeds, exports, signals) goes through here.

Visibility is decided once, in ``search.documents``, when entries are written; a query is limited to
the current site by ``Query.within``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.models import Page, Site
from wagtail.search.utils import normalise_query_string

from practices import visibility
from search import documents, queue, resilience, searchlog
from search.engines.base import Completion, Engine, EngineUnavailable, Entry, Results
from search.facets import BY_NAME
from search.query import Query, Term, parse_terms

logger = logging.getLogger("search")

FALLBACK_NOTICE = "Search is running on the backup index for now; the newest changes may be missing."
DATABASE_NOTICE = (
    "Search is running in a simpler mode while its index is being repaired: plain matches of your words,"
    " newest first, without counts, suggestions or highlights."
)
BATCH = 2000

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def _fts5() -> Engine:
    from search.engines.fts5 import Fts5Engine

    return Fts5Engine(settings.SEARCH_INDEX_DIR)


def _tantivy() -> Engine:
    from search.engines.tantivy import TantivyEngine

    return TantivyEngine(Path(settings.SEARCH_INDEX_DIR) / "tantivy")


# The embedded engines, by KB_SEARCH_ENGINE: the only place that knows them by name.
EMBEDDED: dict[str, Callable[[], Engine]] = {"fts5": _fts5, "tantivy": _tantivy}


def _elastic() -> Engine:
    from search.engines.elastic import ElasticEngine

    user, password = settings.ELASTICSEARCH_USERNAME, settings.ELASTICSEARCH_PASSWORD
    return ElasticEngine(
        url=settings.ELASTICSEARCH_URL,
        index_prefix=settings.ELASTICSEARCH_INDEX_PREFIX,
        timeout=settings.ELASTICSEARCH_TIMEOUT,
        api_key=settings.ELASTICSEARCH_API_KEY or None,
        basic_auth=(user, password) if user else None,
        verify_certs=settings.ELASTICSEARCH_VERIFY_CERTS,
    )


def _cached(name: str, factory: Callable[[], Engine]) -> Engine:
    # Keyed by the settings that pick the engine, so a test's settings override gets a fresh one.
    key = f"{name}:{settings.ELASTICSEARCH_URL if name == 'elastic' else settings.SEARCH_INDEX_DIR}"
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key) or _engines.setdefault(key, factory())
    return engine


def _embedded() -> Engine:
    name = settings.KB_SEARCH_ENGINE
    if name not in EMBEDDED:
        raise ImproperlyConfigured(f"KB_SEARCH_ENGINE={name!r}: use one of {', '.join(EMBEDDED)}.")
    return _cached(name, EMBEDDED[name])


def get_engine() -> Engine:
    """Elasticsearch when ELASTICSEARCH_URL is set, else the embedded index (KB_SEARCH_ENGINE); one per process."""
    if settings.ELASTICSEARCH_URL:
        return _cached("elastic", _elastic)
    return _embedded()


def fallback_engine() -> Engine | None:
    """The embedded index kept beside Elasticsearch, answering when it is down."""
    return _embedded() if settings.ELASTICSEARCH_URL else None


def engines() -> list[Engine]:
    return [e for e in (get_engine(), fallback_engine()) if e is not None]


def embedded_engine() -> Engine:
    """The index kept in the project's own files: the primary engine, or the fallback beside
    Elasticsearch. It is the one the service rebuilds by itself when it finds it broken."""
    return fallback_engine() or get_engine()


def reset_engine() -> None:
    """Forget the cached engines and what was learnt of their health (tests, or new settings)."""
    with _lock:
        _engines.clear()
    resilience.reset()


def _guarded() -> Iterator[tuple[Engine, resilience.Guard]]:
    """The engines that may be asked now, in order, each with its guard."""
    embedded = embedded_engine()
    for engine in engines():
        guard = resilience.guard(engine, embedded=engine is embedded)
        if guard.ready(live_public_page_count):
            yield engine, guard


def site_paths(site: Site | None) -> tuple[str, ...]:
    return (site.root_page.path,) if site is not None else ()


def within_for(request) -> tuple[str, ...]:
    return site_paths(Site.find_for_request(request))


ANY_WORDS_NOTICE = "No result has all of your words; these results have some of them."


def search(query: Query, *, log: bool = False) -> Results:
    """Run the query. When nothing matched: the spelling correction's results if it has any (unless
    the query turns autocorrect off), else the results with some of the words (ranked by how many
    they have), each with a notice."""
    results = _run(query)
    if results.correction and results.correction != query.text:
        corrected = _run(query.with_text(results.correction))
        if not corrected.total:
            # A word only expired or removed entries still hold: never suggest what finds nothing.
            results.correction = None
        elif results.total == 0 and query.autocorrect:
            corrected.corrected_from = query.text
            corrected.correction = results.correction
            corrected.notices = results.notices + corrected.notices
            results = corrected
    if results.total == 0 and len(query.positive_terms) > 1 and not query.match_any:
        partial = _run(query.with_any_words())
        if partial.total:
            partial.notices = [*results.notices, ANY_WORDS_NOTICE, *partial.notices]
            partial.correction = results.correction
            results = partial
    if log and query.text and query.page == 1:
        searchlog.record(query.text, found_nothing=results.total == 0 and bool(query.positive_terms))
    return results


def _run(query: Query) -> Results:
    """The primary engine's answer; else the fallback index's, else the database's, with a notice."""
    primary = get_engine()
    for engine, guard in _guarded():
        try:
            results = engine.search(query)
        except EngineUnavailable as exc:
            logger.warning("search engine %s unavailable: %s", engine.name, exc)
            guard.failed(exc)
            continue
        guard.succeeded()
        if engine is not primary:
            results.notices.append(FALLBACK_NOTICE)
        return results
    from search.engines.database import DatabaseEngine

    results = DatabaseEngine().search(query)
    results.notices.append(DATABASE_NOTICE)
    return results


def visible_page_ids(page_ids: Iterable[int], within: tuple[str, ...] = ()) -> set[int]:
    """Which of these pages the public may see now (the one visibility rule), on these sites."""
    visible = visibility.visible(Page.objects.filter(pk__in=list(page_ids)))
    if within:
        on_site = Q()
        for path in within:
            on_site |= Q(path__startswith=path)
        visible = visible.filter(on_site)
    return set(visible.values_list("pk", flat=True))


@dataclass(frozen=True)
class Promotion:
    title: str
    url: str
    description: str


def promotions(text: str, site: Site | None = None) -> list[Promotion]:
    """Editors' picks for these words: only live public pages (of this site) or external links."""
    if not text:
        return []
    picks = list(
        SearchPromotion.objects.filter(query__query_string=normalise_query_string(text)).select_related(
            "page"
        )
    )
    page_ids = [p.page_id for p in picks if p.page_id]
    # Most words have no picks: spare every search the visibility query.
    visible_ids = visible_page_ids(page_ids, site_paths(site)) if page_ids else set()
    out = []
    for pick in picks:
        if pick.page_id and pick.page_id in visible_ids:
            out.append(Promotion(pick.page.title, pick.page.get_url(), pick.description))
        elif not pick.page_id and pick.external_link_url:
            out.append(
                Promotion(
                    pick.external_link_text or pick.external_link_url,
                    pick.external_link_url,
                    pick.description,
                )
            )
    return out


@dataclass(frozen=True)
class SimilarPractice:
    page: Page  # the specific PracticePage
    chosen: bool  # one of the editors' own "related practices"
    cluster: Page | None  # its publisher


def similar_practices(page: Page, *, limit: int = 6, within: tuple[str, ...] = ()) -> list[SimilarPractice]:
    """The practice page's "Similar practices": editors' related practices first, in their order,
    then those the engine finds most alike; each once, never the page, only what the public may see."""
    from practices.models import ClusterPage, PracticePage

    chosen = list(page.related_practices.values_list("related_id", flat=True))
    found: list[int] = []
    for engine in engines():
        try:
            found = [h.page_id for h in engine.similar(page.pk, limit=limit, within=within)]
            break
        except EngineUnavailable:
            logger.warning("similar: %s unavailable", engine.name)
    candidates = [pid for pid in dict.fromkeys([*chosen, *found]) if pid != page.pk]
    if not candidates:
        return []
    visible = visible_page_ids(candidates, within)
    shown = [pid for pid in candidates if pid in visible][:limit]
    pages = PracticePage.objects.in_bulk(shown)
    clusters = {
        c.path: c
        for c in ClusterPage.objects.filter(path__in={p.path[: -Page.steplen] for p in pages.values()})
    }
    return [
        SimilarPractice(pages[pid], pid in chosen, clusters.get(pages[pid].path[: -Page.steplen]))
        for pid in shown
        if pid in pages
    ]


def autocomplete(prefix: str, *, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
    for engine, guard in _guarded():
        try:
            completions = engine.autocomplete(prefix, limit=limit, within=within)
        except EngineUnavailable as exc:
            logger.warning("autocomplete: %s unavailable", engine.name)
            guard.failed(exc)
            continue
        guard.succeeded()
        return completions
    return []


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
        for engine in engines():
            try:
                n = _write(engine, by_page)
            except EngineUnavailable:
                logger.warning(
                    "index: %s unavailable; `manage.py rebuild_search_index` repairs it", engine.name
                )
                continue
            if engine is get_engine():
                written += n
    return written


def remove_pages(page_ids: Iterable[int]) -> int:
    ids = sorted({int(i) for i in page_ids})
    if not ids:
        return 0
    removed = 0
    for engine in engines():
        try:
            n = _write(engine, {pid: [] for pid in ids})
        except EngineUnavailable:
            logger.warning("remove: %s unavailable; `manage.py rebuild_search_index` repairs it", engine.name)
            continue
        if engine is get_engine():
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


def owed() -> int:
    from search.models import UnindexedChange

    return UnindexedChange.objects.count()


def index_missing(page_ids: Iterable[int]) -> int:
    """Index those of these pages that the index lacks (what an old crash may have left out)."""
    missing = set(page_ids) - get_engine().page_ids()
    return index_pages(missing) if missing else 0


def replay_queue(limit: int | None = None):
    """Apply the index updates Elasticsearch could not take yet (``manage.py search_sync``)."""
    from search.models import PendingIndexUpdate

    return queue.replay(get_engine(), PendingIndexUpdate, limit=limit)


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
    for engine in engines():
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


def facet_counts(facet: str, values: Iterable[str], *, within: tuple[str, ...] = ()) -> dict[str, int]:
    """How many visible entries carry each of these values, as the search page's facet counts them
    on an empty query: browse pages and the map show the very numbers the facet shows.

    The values are selected in the query so that none is cut from a long facet; a facet's own
    selection never narrows its own counts.
    """
    values = tuple(dict.fromkeys(values))
    if not values:
        return {}
    query = Query(filters={facet: values}, per_page=1, within=within, with_highlights=False)
    return {c.value: c.count for c in _run(query).facets.get(facet, [])}


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
        results = get_engine().search(q)
        ids.update(h.page_id for h in results.hits)
        if page * 500 >= results.total or not results.hits:
            return ids
        page += 1


def check_filters(query: Query) -> tuple[Query, list[str]]:
    """Drop filter values that name nothing (with a note) and spell the rest as they are indexed."""
    filters: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for facet, values in query.filters.items():
        known = {v: indexed for v, (indexed, _label) in BY_NAME[facet].lookup(values).items()}
        for v in values:
            if v not in known:
                notes.append(f"Unknown {facet} {v!r} was ignored.")
        kept = tuple(dict.fromkeys(known[v] for v in values if v in known))
        if kept:
            filters[facet] = kept
    if not notes and filters == dict(query.filters):
        return query, []
    return query.with_filters(filters), notes


def engine_page_ids(name: str) -> set[int]:
    for engine in engines():
        if engine.name == name:
            return engine.page_ids()
    return set()


def ranked_page_ids(
    text: str, *, limit: int = 1000, prefix_last: bool = False, match_any: bool = False
) -> list[int]:
    """Ids of the indexed pages matching ``text``, best first (the admin's search backend asks this).

    Every site's pages; no facets, highlights or logging. With ``prefix_last`` the last word
    matches as a prefix, as the admin searches while typing; with ``match_any`` any word matches.
    """
    terms = parse_terms(text)
    if prefix_last and terms and not (terms[-1].phrase or terms[-1].negated) and len(terms[-1].text) >= 2:
        last = terms[-1]
        terms = (*terms[:-1], Term(last.text, prefix=True))
    query = Query(
        text=text, terms=terms, per_page=limit, with_facets=False, with_highlights=False, match_any=match_any
    )
    if query.is_empty:
        return []
    return list(dict.fromkeys(h.page_id for h in _run(query).hits))


def live_public_page_count() -> int:
    """Live, public, unexpired pages of the indexed types, by Wagtail's own rules (the admin's health)."""
    return visibility.visible(Page.objects.type(*documents.INDEXED_MODELS)).count()


def health() -> dict:
    """What the admin's health panel shows for the primary engine (and its fallback, if any)."""
    from search.models import PendingIndexUpdate

    def state(engine: Engine) -> dict:
        guard = resilience.guard(engine, embedded=engine is embedded_engine())
        if guard.status()["circuit_open_for"] or guard.status()["broken"]:
            # Not asked while it is known not to answer: the panel must not hang or fail on it.
            data = {
                "reachable": False,
                "entries": None,
                "pages": None,
                "error": guard.broken or "not answering",
            }
        else:
            data = dict(engine.health())
        data["name"] = engine.name
        data.update(guard.status())
        return data

    fallback = fallback_engine()
    return {
        "engine": state(get_engine()),
        "fallback": state(fallback) if fallback is not None else None,
        "live_pages": live_public_page_count(),
        "queued": queue.pending(PendingIndexUpdate),
    }
