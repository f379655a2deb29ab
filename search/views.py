"""The search page and autocomplete: parse the request, ask the service, render."""

from __future__ import annotations

from math import ceil
from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wagtail.models import Site

from search import service
from search.query import FACETS, MAX_PAGE, SORTS, Query, parse, to_params

FACET_LABELS = {
    "industry": "Industry",
    "cluster": "Cluster",
    "country": "Country",
    "type": "Content type",
    "year": "Year",
    "tag": "Tag",
    "theme": "Theme",
}
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest", "title": "Title"}
TYPE_LABELS = {"practice": "Practice", "presentation": "Presentation", "event": "Meeting"}
SUGGEST_MAX_CHARS = 100


def last_page(total: int, per_page: int) -> int:
    return max(1, min(ceil(total / per_page), MAX_PAGE))


def page_links(query: Query, total: int) -> dict:
    last = last_page(total, query.per_page)

    def link(n: int) -> str:
        return "?" + urlencode(to_params(query, page=n))

    return {
        "number": query.page,
        "last": last,
        "previous": link(query.page - 1) if query.page > 1 else None,
        "next": link(query.page + 1) if query.page < last else None,
    }


def run(request, *, strict: bool = False):
    """What the page and the API share: parse, check filter values, search. Raises QueryError if strict."""
    site = Site.find_for_request(request)
    query, notes = parse(request.GET, strict=strict, within=service.site_paths(site))
    query, filter_notes = service.check_filters(query)
    results = service.search(query, log=True)
    return site, query, results, notes + filter_notes


@require_GET
def search(request):
    site, query, results, notes = run(request)
    last = last_page(results.total, query.per_page)
    if query.page > last and results.total:
        notes.append(f"There are only {last} pages of results.")
    facets = [
        {
            "name": name,
            "label": FACET_LABELS[name],
            "values": [
                {
                    "value": c.value,
                    "count": c.count,
                    "selected": c.selected,
                    "label": TYPE_LABELS.get(c.value, c.value) if name == "type" else c.label or c.value,
                }
                # Ticked values first, so a ticked value never hides below a long list.
                for c in sorted(results.facets[name], key=lambda c: not c.selected)
            ],
        }
        for name in FACETS
        if results.facets.get(name)
    ]
    context = {
        "query": query,
        "search_query": query.text,
        "results": results,
        "facets": facets,
        "notes": notes + results.notices,
        "promotions": service.promotions(query.text, site) if query.page == 1 else [],
        "sorts": [(s, SORT_LABELS[s]) for s in SORTS],
        "hits": [(h, TYPE_LABELS.get(h.type, h.type)) for h in results.hits],
        "pages": page_links(query, results.total),
        # The export takes the search's own parameters; it pages nothing.
        "export_query": urlencode(to_params(query, page=1)),
        "correction_link": "?" + urlencode(to_params(query, q=results.correction, page=1))
        if results.correction
        else "",
        "original_link": "?" + urlencode(to_params(query, q=results.corrected_from, page=1))
        if results.corrected_from
        else "",
    }
    return render(request, "search/search.html", context)


@require_GET
def autocomplete(request):
    prefix = request.GET.get("q", "")[:SUGGEST_MAX_CHARS].replace("\x00", "")
    within = service.within_for(request)
    completions = service.autocomplete(prefix, limit=8, within=within)
    return JsonResponse(
        {
            "suggestions": [
                {"text": s.text, "kind": s.kind, "url": s.url, "value": s.value} for s in completions
            ]
        }
    )
