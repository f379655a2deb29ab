"""The search itself: a query answered (with correction and any-word fallbacks), its facet counts,
autocompletion, similar practices and editors' promotions, only ever what the public may see."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.http.request import split_domain_port

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.models import Page, Site
from wagtail.search.utils import normalise_query_string
from wagtail.signals import post_page_move

from practices import visibility
from search import searchlog
from search.engines.base import Completion, EngineUnavailable, Results
from search.facets import BY_NAME
from search.query import Query

from . import registry
from .cached import KeptUntilSaved

logger = logging.getLogger("search")

FALLBACK_NOTICE = "Search is running on the backup index for now; the newest changes may be missing."
DATABASE_NOTICE = (
    "Search is running in a simpler mode while its index is being repaired: plain matches of your words,"
    " newest first, without counts, suggestions or highlights."
)


def site_paths(site: Site | None) -> tuple[str, ...]:
    return (site.root_page.path,) if site is not None else ()


# Asked on every search and autocompletion, changed by editing a site or moving its root page.
_site_paths = KeptUntilSaved("site-paths", (Site,))
# Most searched words have no editors' picks: known without asking the database each time.
_promoted = KeptUntilSaved("promoted-words", (SearchPromotion,))


def within_for(request) -> tuple[str, ...]:
    """The root paths of the site this request is for (Wagtail's ``Site.find_for_request``)."""
    host = (split_domain_port(request._get_raw_host())[0], request.get_port())
    return _site_paths.get(host, lambda: site_paths(Site.find_for_request(request)))


def connect() -> None:
    _site_paths.connect(post_page_move)
    _promoted.connect()


ANY_WORDS_NOTICE = "No result has all of your words; these results have some of them."


def search(query: Query, *, log: bool = False) -> Results:
    """Run the query. When nothing matched: the spelling correction's results if it has any (unless
    the query turns autocorrect off), else the results with some of the words (ranked by how many
    they have), each with a notice."""
    results = answer(query)
    if results.correction and results.correction != query.text:
        corrected = answer(query.with_text(results.correction))
        if not corrected.total:
            # A word only expired or removed entries still hold: never suggest what finds nothing.
            results.correction = None
        elif results.total == 0 and query.autocorrect:
            corrected.corrected_from = query.text
            corrected.correction = results.correction
            corrected.notices = results.notices + corrected.notices
            results = corrected
    if results.total == 0 and len(query.positive_terms) > 1 and not query.match_any:
        partial = answer(query.with_any_words())
        if partial.total:
            partial.notices = [*results.notices, ANY_WORDS_NOTICE, *partial.notices]
            partial.correction = results.correction
            results = partial
    if log and query.text and query.page == 1:
        searchlog.record(query.text, found_nothing=results.total == 0 and bool(query.positive_terms))
    return results


def answer(query: Query) -> Results:
    """The primary engine's answer; else the fallback index's, else the database's, with a notice."""
    primary = registry.get_engine()
    for engine, guard in registry.guarded():
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


def _promoted_words() -> frozenset[str]:
    return frozenset(SearchPromotion.objects.values_list("query__query_string", flat=True))


def promotions(text: str, within: tuple[str, ...] = ()) -> list[Promotion]:
    """Editors' picks for these words: only live public pages (on these sites) or external links."""
    if not text:
        return []
    normalised = normalise_query_string(text)
    if normalised not in _promoted.get("words", _promoted_words):
        return []
    picks = list(SearchPromotion.objects.filter(query__query_string=normalised).select_related("page"))
    page_ids = [p.page_id for p in picks if p.page_id]
    # Most words have no picks: spare every search the visibility query.
    visible_ids = visible_page_ids(page_ids, within) if page_ids else set()
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
    for engine in registry.engines():
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
    for engine, guard in registry.guarded():
        try:
            completions = engine.autocomplete(prefix, limit=limit, within=within)
        except EngineUnavailable as exc:
            logger.warning("autocomplete: %s unavailable", engine.name)
            guard.failed(exc)
            continue
        guard.succeeded()
        return completions
    return []


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
    return {c.value: c.count for c in answer(query).facets.get(facet, [])}


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
