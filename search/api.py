"""`/api/search/`: the search page's hits, facets, total and spelling correction (key "suggestion") as JSON."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from search.query import QueryError
from search.views import last_page, run


def result(hit) -> dict:
    display = hit.display or {}
    return {
        "title": hit.title,
        "url": hit.url,
        "type": hit.type,
        # HTML-escaped text with <mark> around the matched words.
        "snippet": hit.snippet_html,
        "cluster": display.get("cluster") or None,
        "industries": list(display.get("industries") or []),
        "year": display.get("year"),
    }


@require_GET
def search(request):
    try:
        query, results, notes = run(request, strict=True)
    except QueryError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    last = last_page(results.total, query.per_page)
    if query.page > last:
        return JsonResponse({"error": f"Page {query.page} is past the last page ({last})."}, status=400)
    body = {
        "total": results.total,
        "page": query.page,
        "results": [result(h) for h in results.hits],
        "facets": {
            name: [
                {"value": c.value, "label": c.label, "count": c.count, "selected": c.selected} for c in counts
            ]
            for name, counts in results.facets.items()
        },
        "suggestion": results.correction,
    }
    if results.corrected_from:
        body["corrected_from"] = results.corrected_from
    notes = notes + results.notices
    if notes:
        body["notes"] = notes
    return JsonResponse(body)
