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

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.models import Page, Site
from wagtail.search.utils import normalise_query_string

from search import documents, queue, searchlog
from search.engines.base import Completion, Engine, EngineUnavailable, Entry, Results
from search.query import Query, Term, parse_terms

logger = logging.getLogger("search")

FALLBACK_NOTICE = "Search is running on the backup index for now; the newest changes may be missing."
DOWN_NOTICE = "Search is unavailable at the moment. Please try again in a few minutes."
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


def reset_engine() -> None:
    """Forget the cached engines (tests, or after the settings changed)."""
    with _lock:
        _engines.clear()


def site_paths(site: Site | None) -> tuple[str, ...]:
    return (site.root_page.path,) if site is not None else ()


def within_for(request) -> tuple[str, ...]:
    return site_paths(Site.find_for_request(request))


ANY_WORDS_NOTICE = "No result has all of your words; these results have some of them."


def search(query: Query, *, log: bool = False) -> Results:
    """Run the query. When nothing matched: the spelling correction's results if it has any, else the
    results with some of the words (ranked by how many they have), each with a notice."""
    results = _run(query)
    if results.total == 0 and results.correction and results.correction != query.text:
        corrected = _run(query.with_text(results.correction))
        if corrected.total:
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
    try:
        return get_engine().search(query)
    except EngineUnavailable as exc:
        logger.warning("search engine unavailable: %s", exc)
        fallback = fallback_engine()
        if fallback is not None:
            try:
                results = fallback.search(query)
                results.notices.append(FALLBACK_NOTICE)
                return results
            except EngineUnavailable:
                logger.exception("fallback search engine unavailable")
        return Results(total=0, hits=[], notices=[DOWN_NOTICE])


def _unexpired() -> Q:
    """Not expired, nor past an expiry that publish_scheduled has not applied yet."""
    return Q(expired=False) & (Q(expire_at__isnull=True) | Q(expire_at__gt=timezone.now()))


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
        visible = Page.objects.filter(pk__in=page_ids).live().public().filter(_unexpired())
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


def autocomplete(prefix: str, *, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
    for engine in engines():
        try:
            return engine.autocomplete(prefix, limit=limit, within=within)
        except EngineUnavailable:
            logger.warning("autocomplete: %s unavailable", engine.name)
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
    from search.models import PendingIndexUpdate

    counts: dict[str, int] = {}
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
    if facet == "cluster":
        known = set(ClusterPage.objects.filter(slug__in=values).values_list("slug", flat=True))
        return {v: v for v in values if v in known}
    if facet == "theme":
        known = set(ThemePage.objects.filter(slug__in=values).values_list("slug", flat=True))
        return {v: v for v in values if v in known}
    if facet == "country":
        return {v: v for v in values if v in dict(countries)}
    if facet == "tag":
        q = Q()
        for v in values:
            q |= Q(name__iexact=v)
        names = {n.casefold(): n for n in Tag.objects.filter(q).values_list("name", flat=True)}
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


def ranked_page_ids(text: str, *, limit: int = 1000, prefix_last: bool = False) -> list[int]:
    """Ids of the indexed pages matching ``text``, best first (the admin's search backend asks this).

    Every site's pages; no facets, highlights or logging. With ``prefix_last`` the last word
    matches as a prefix, as the admin searches while typing.
    """
    terms = parse_terms(text)
    if prefix_last and terms and not (terms[-1].phrase or terms[-1].negated) and len(terms[-1].text) >= 2:
        last = terms[-1]
        terms = (*terms[:-1], Term(last.text, prefix=True))
    query = Query(text=text, terms=terms, per_page=limit, with_facets=False, with_highlights=False)
    if query.is_empty:
        return []
    return list(dict.fromkeys(h.page_id for h in _run(query).hits))


def live_public_page_count() -> int:
    """Live, public, unexpired pages of the indexed types, by Wagtail's own rules (the admin's health)."""
    return Page.objects.live().public().filter(_unexpired()).type(*documents.INDEXED_MODELS).count()


def health() -> dict:
    """What the admin's health panel shows for the primary engine (and its fallback, if any)."""
    from search.models import PendingIndexUpdate

    def state(engine: Engine) -> dict:
        return {**engine.health(), "name": engine.name}

    fallback = fallback_engine()
    return {
        "engine": state(get_engine()),
        "fallback": state(fallback) if fallback is not None else None,
        "live_pages": live_public_page_count(),
        "queued": queue.pending(PendingIndexUpdate),
    }
