"""The one search interface: every caller (page, API, feeds, exports, signals) goes through here.

Visibility is decided once, in ``search.documents``, when entries are written; a query is limited to
the current site by ``Query.within``.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from wagtail.contrib.search_promotions.models import Query as LoggedQuery
from wagtail.contrib.search_promotions.models import QueryDailyHits, SearchPromotion
from wagtail.models import Page, Site
from wagtail.search.utils import normalise_query_string

from practices import visibility
from search import documents, queue, resilience
from search.engines.base import Engine, EngineUnavailable, Entry, Results, Suggestion
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


def get_engine() -> Engine:
    """Elasticsearch when ELASTICSEARCH_URL is set, else the embedded FTS5 index; one per process."""
    if settings.ELASTICSEARCH_URL:
        return _cached("elastic", _elastic)
    return _cached("fts5", _fts5)


def fallback_engine() -> Engine | None:
    """The FTS5 index kept beside Elasticsearch, answering when it is down."""
    return _cached("fts5", _fts5) if settings.ELASTICSEARCH_URL else None


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
    """Run the query. When nothing matched: the spelling suggestion's results if it has any, else the
    results with some of the words (ranked by how many they have), each with a notice."""
    results = _run(query)
    if results.suggestion and results.suggestion != query.text:
        corrected = _run(query.with_text(results.suggestion))
        if not corrected.total:
            # A word only expired or removed entries still hold: never suggest what finds nothing.
            results.suggestion = None
        elif results.total == 0:
            corrected.corrected_from = query.text
            corrected.suggestion = results.suggestion
            corrected.notices = results.notices + corrected.notices
            results = corrected
    if results.total == 0 and len(query.positive_terms) > 1 and not query.match_any:
        partial = _run(query.with_any_words())
        if partial.total:
            partial.notices = [*results.notices, ANY_WORDS_NOTICE, *partial.notices]
            partial.suggestion = results.suggestion
            results = partial
    if log and query.text and query.page == 1:
        _log(query.text)
        if results.total == 0 and query.positive_terms:
            record_zero_result(query.text)
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


def _log(text: str) -> None:
    # Editors see popular and zero-result searches in the admin's "Search terms" report. A word
    # searched before today costs one UPDATE, not Wagtail's three queries: every search writes.
    try:
        today = timezone.now().date()  # the day Wagtail's Query.add_hit counts on
        counted = QueryDailyHits.objects.filter(
            query__query_string=normalise_query_string(text), date=today
        ).update(hits=F("hits") + 1)
        if not counted:
            LoggedQuery.get(text).add_hit(today)
    except DatabaseError:
        logger.exception("could not log the search %r", text)


def record_zero_result(text: str) -> None:
    """Count a search that found nothing, once per normalised query and day, for the editors' report."""
    from search.models import ZeroResultSearch

    normalised = normalise_query_string(text)[:255]
    if not normalised:
        return
    today = timezone.localdate()
    try:
        for _ in range(2):
            updated = ZeroResultSearch.objects.filter(query_string=normalised, date=today).update(
                hits=F("hits") + 1
            )
            if updated:
                return
            try:
                with transaction.atomic():
                    ZeroResultSearch.objects.create(query_string=normalised, date=today, hits=1)
                return
            except IntegrityError:
                # Another request created today's row first: count on it.
                continue
    except DatabaseError:
        logger.exception("could not record the zero-result search %r", text)


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
    visible_ids: set[int] = set()
    if page_ids:  # most words have no picks: spare every search the visibility queries
        visible = visibility.visible(Page.objects.filter(pk__in=page_ids))
        if site is not None:
            visible = visible.descendant_of(site.root_page, inclusive=True)
        visible_ids = set(visible.values_list("pk", flat=True))
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


def suggest(prefix: str, *, limit: int = 8, within: tuple[str, ...] = ()) -> list[Suggestion]:
    for engine, guard in _guarded():
        try:
            suggestions = engine.suggest(prefix, limit=limit, within=within)
        except EngineUnavailable as exc:
            logger.warning("suggest: %s unavailable", engine.name)
            guard.failed(exc)
            continue
        guard.succeeded()
        return suggestions
    return []


def _batches(items: Iterable, size: int = BATCH):
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _queued(engine: Engine) -> bool:
    # Elasticsearch is the primary engine exactly when an FTS5 fallback is kept beside it.
    return engine is get_engine() and fallback_engine() is not None


def _write(engine: Engine, by_page: dict[int, list[Entry]]) -> int:
    """Apply pages' new states (no entries: the page leaves the index); through the durable queue for
    Elasticsearch, so an update it cannot take now is kept and replayed in order, never lost."""
    if _queued(engine):
        from search.models import PendingIndexUpdate

        result = queue.submit_pages(engine, PendingIndexUpdate, by_page)
        if result.error:
            logger.warning("index updates queued (%s pending): %s", result.remaining, result.error)
        return 0 if result.remaining else sum(len(v) for v in by_page.values())
    return queue.write_pages(engine, list(by_page), [e for es in by_page.values() for e in es])


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


def replay_queue(limit: int | None = None):
    """Apply the index updates Elasticsearch could not take yet (``manage.py search_sync``)."""
    from search.models import PendingIndexUpdate

    return queue.replay(get_engine(), PendingIndexUpdate, limit=limit)


def _accepts(fn: Callable, keyword: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _collecting(entries: Iterable[Entry], into: set[int]) -> Iterator[Entry]:
    for entry in entries:
        into.add(entry.page_id)
        yield entry


def rebuild(progress: bool = True, *, total: int | None = None) -> dict[str, int]:
    """Rebuild every engine's index from the live public pages, aside, then swap it in.

    An engine that can check its new index against the expected pages gets them: the pages
    ``search.documents`` found indexable while the entries streamed, complete by the time the
    engine checks, after it has consumed them. Queued updates older than a successful rebuild of
    the primary engine are dropped: the rebuild read newer states of those pages.
    """
    from search.models import PendingIndexUpdate

    counts: dict[str, int] = {}
    for engine in engines():
        started = timezone.now()
        expected: set[int] = set()
        entries: Iterable[Entry] = _collecting(documents.all_entries(), expected)
        if progress:
            from tqdm import tqdm

            entries = tqdm(entries, total=total, desc=f"Indexing ({engine.name})", unit=" entries")
        if _accepts(engine.rebuild, "expected_page_ids"):
            counts[engine.name] = engine.rebuild(entries, expected_page_ids=expected)
        else:
            counts[engine.name] = engine.rebuild(entries)
        if _queued(engine):
            PendingIndexUpdate.objects.filter(created_at__lt=started).delete()
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
        results = get_engine().search(q)
        ids.update(h.page_id for h in results.hits)
        if page * 500 >= results.total or not results.hits:
            return ids
        page += 1


def _known(facet: str, values: tuple[str, ...]) -> dict[str, str]:
    """value as sent -> value as indexed, for the values that exist (one query per facet at most)."""
    from django_countries import countries

    from taggit.models import Tag

    from practices.models import ClusterPage, Industry, ThemePage

    if facet == "industry":
        known = set(
            Industry.objects.filter(code__in=[v.upper() for v in values]).values_list("code", flat=True)
        )
        return {v: v.upper() for v in values if v.upper() in known}
    # Clusters, themes and tags exist for visitors only when the public sees them (or a page using them).
    if facet == "cluster":
        clusters = visibility.visible(ClusterPage.objects.filter(slug__in=values))
        known = set(clusters.values_list("slug", flat=True))
        return {v: v for v in values if v in known}
    if facet == "theme":
        known = set(
            visibility.visible(ThemePage.objects.filter(slug__in=values)).values_list("slug", flat=True)
        )
        return {v: v for v in values if v in known}
    if facet == "country":
        return {v: v for v in values if v in dict(countries)}
    if facet == "tag":
        q = Q()
        for v in values:
            q |= Q(name__iexact=v)
        names = {
            n.casefold(): n
            for n in visibility.visible_tags(Tag.objects.filter(q)).values_list("name", flat=True)
        }
        return {v: names[v.casefold()] for v in values if v.casefold() in names}
    return {v: v for v in values}


def check_filters(query: Query) -> tuple[Query, list[str]]:
    """Drop filter values that name nothing (with a note) and spell the rest as they are indexed."""
    filters: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for facet, values in query.filters.items():
        known = _known(facet, values)
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
    return visibility.visible(Page.objects.type(*documents.TYPES)).count()


def health() -> dict:
    """What the admin's health panel shows for the primary engine (and its fallback, if any)."""
    from search.models import PendingIndexUpdate

    def state(engine: Engine) -> dict:
        guard = resilience.guard(engine, embedded=engine is embedded_engine())
        report = getattr(engine, "health", None)
        if guard.status()["circuit_open_for"] or guard.status()["broken"]:
            # Not asked while it is known not to answer: the panel must not hang or fail on it.
            data = {
                "reachable": False,
                "entries": None,
                "pages": None,
                "error": guard.broken or "not answering",
            }
        elif report is not None:
            data = dict(report())
        else:
            try:
                data = {"reachable": True, "entries": engine.count(), "pages": len(engine.page_ids())}
                data["error"] = ""
            except EngineUnavailable as exc:
                data = {"reachable": False, "entries": None, "pages": None, "error": str(exc)}
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
