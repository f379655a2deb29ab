"""The search page and autocomplete: parse the request, ask the service, render."""

from __future__ import annotations

import html
import re
from datetime import date
from math import ceil
from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from search import service
from search.facets import BY_NAME, REGISTRY, TYPE_LABELS, parents
from search.query import MAX_PAGE, SORTS, Query, parse, to_params

SORT_LABELS = {"relevance": "Relevance", "newest": "Newest", "title": "Title"}
SUGGEST_MAX_CHARS = 100
# Values a facet shows before "Show all N"; the rest are one click (or none, without JS) away.
FACET_SHOWN = 6
# A facet longer than this gets a box to filter its values by name.
FACET_FILTER_FROM = 12
# Numbered page links on either side of the current page.
PAGE_WINDOW = 2


def last_page(total: int, per_page: int) -> int:
    return max(1, min(ceil(total / per_page), MAX_PAGE))


def _link(query: Query, **overrides) -> str:
    params = urlencode(to_params(query, **overrides))
    return "?" + params if params else reverse("search:search")


def page_links(query: Query, total: int) -> dict:
    """Previous, next and numbered pages: the first, the last and a window around the current one."""
    last = last_page(total, query.per_page)
    shown = sorted({1, last, *range(query.page - PAGE_WINDOW, query.page + PAGE_WINDOW + 1)})
    numbers: list[dict | None] = []
    for n in (n for n in shown if 1 <= n <= last):
        if numbers and numbers[-1] is not None and n > numbers[-1]["number"] + 1:
            numbers.append(None)  # a gap, shown as "…"
        numbers.append({"number": n, "url": _link(query, page=n), "current": n == query.page})
    return {
        "number": query.page,
        "last": last,
        "previous": _link(query, page=query.page - 1) if query.page > 1 else None,
        "next": _link(query, page=query.page + 1) if query.page < last else None,
        "numbers": numbers,
    }


def run(request, *, strict: bool = False):
    """What the page and the API share: parse, check filter values, search. Raises QueryError if strict."""
    query, notes = parse(request.GET, strict=strict, within=service.within_for(request))
    query, filter_notes = service.check_filters(query)
    results = service.search(query, log=True)
    return query, results, notes + filter_notes


def facet_groups(results) -> list[dict]:
    """Each facet's values as the page shows them: ticked first, then by count; the industry facet
    as a tree of sections with their divisions beneath."""
    out = []
    for facet in REGISTRY:
        counts = results.facets.get(facet.name)
        if not counts:
            continue
        values = [
            {
                "value": c.value,
                "count": c.count,
                "selected": c.selected,
                "label": facet.value_label(c.value, c.label),
                "children": [],
            }
            for c in counts
        ]
        if facet.hierarchical:
            values = _tree(values)
        # Ticked values first, so a ticked value never hides below "Show all".
        values.sort(key=lambda v: not (v["selected"] or any(c["selected"] for c in v["children"])))
        out.append(
            {
                "name": facet.name,
                "label": facet.label,
                "values": values[:FACET_SHOWN],
                "shown_html": values_html(facet.name, values[:FACET_SHOWN]),
                "more_html": values_html(facet.name, values[FACET_SHOWN:]),
                "more": values[FACET_SHOWN:],
                "size": len(values),
                "filterable": facet.filterable or len(values) > FACET_FILTER_FROM,
                "selected": sum(1 for c in counts if c.selected),
            }
        )
    return out


def values_html(name: str, values: list[dict]) -> str:
    """A facet's checkboxes. Built here, not in a template loop: a facet may list hundreds of
    values, and the template engine took tens of milliseconds a page for them. Plain strings, each
    part escaped as ``format_html`` would: its wrappers took four fifths of the facets' time."""
    return mark_safe("".join(_value_html(name, v) for v in values))  # noqa: S308 - every part escaped


def _escaped(value) -> str:
    """``conditional_escape`` without its lazy-string wrappers: safe HTML as it is, the rest escaped."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _value_html(name: str, v: dict) -> str:
    label = _escaped(v["label"])
    children = ""
    if v["children"]:
        divisions = "".join(_value_html(name, c) for c in v["children"])
        children = f'<ul class="facet-children" aria-label="Divisions of {label}">{divisions}</ul>'
    return (
        f'<li class="facet-value" data-label="{_escaped(v["label"].lower())}"><label>'
        f'<input type="checkbox" name="{_escaped(name)}" value="{_escaped(v["value"])}" data-autosubmit'
        f'{" checked" if v["selected"] else ""}> <span class="label">{label}</span>'
        f' <span class="count" data-count>{_escaped(v["count"])}</span></label>{children}</li>'
    )


def _tree(values: list[dict]) -> list[dict]:
    """Sections with their divisions beneath (a division whose section is absent stands alone)."""
    by_value = {v["value"]: v for v in values}
    parent_of = parents(by_value)
    roots = []
    for v in values:
        parent = by_value.get(parent_of.get(v["value"], ""))
        if parent is not None:
            parent["children"].append(v)
        else:
            roots.append(v)
    return roots


def chips(query: Query, facets: list[dict]) -> list[dict]:
    """Active filters, each with the link that removes it."""
    labels = {}
    for group in facets:
        for v in group["values"] + group["more"]:
            for item in (v, *v["children"]):
                labels[(group["name"], item["value"])] = item["label"]
    out = []
    for name, values in query.filters.items():
        for value in values:
            rest = {
                k: tuple(x for x in vs if not (k == name and x == value)) for k, vs in query.filters.items()
            }
            out.append(
                {
                    "facet": BY_NAME[name].label,
                    "name": name,
                    "value": value,
                    "label": labels.get((name, value), BY_NAME[name].value_label(value)),
                    "url": _link(query, filters=rest, page=1),
                }
            )
    return out


_TAGS = re.compile(r"(<[^>]*>)")


def without_leading(snippet_html: str, *titles: str) -> str:
    """The snippet less a title it starts with (a document page's first line is often its title)."""
    stripped = True
    while stripped:  # a document part's snippet may give its title twice (as title, then as text)
        stripped = False
        plain = html.unescape(_TAGS.sub("", snippet_html))
        for title in filter(None, titles):
            if plain.casefold().startswith(title.casefold()) and len(plain.strip()) > len(title):
                snippet_html = _drop_chars(snippet_html, len(title)).lstrip(" :.-–—·")
                stripped = True
    return snippet_html


def _drop_chars(snippet_html: str, n: int) -> str:
    """Drop the first ``n`` characters of text from escaped HTML, keeping its tags balanced."""
    out = []
    for part in _TAGS.split(snippet_html):
        if part.startswith("<") or n <= 0:
            out.append(part)
            continue
        text = html.unescape(part)
        dropped, text = text[:n], text[n:]
        n -= len(dropped)
        out.append(html.escape(text, quote=False))
    return re.sub(r"<mark>\s*</mark>", "", "".join(out)).strip()


def hit_card(hit) -> dict:
    d = hit.display or {}
    in_document = hit.document is not None
    title = d.get("page_title") if in_document else hit.title
    added = d.get("added")
    return {
        "hit": hit,
        "type": TYPE_LABELS.get(hit.type, hit.type),
        "url": d.get("page_url") if in_document else hit.url,
        "title_html": html.escape(title) if in_document else hit.title_html,
        "part_html": hit.title_html if in_document else "",
        "part_url": hit.url if in_document else "",
        "part_title": d.get("part_title") or "",
        "snippet_html": without_leading(hit.snippet_html, title, d.get("part_title") or ""),
        "publisher": d.get("cluster") or "",
        # The organisation behind a practice, when it is not the publisher itself.
        "organisation": d.get("organisation") if d.get("organisation") != d.get("cluster") else "",
        "publisher_url": d.get("cluster_url") or "",
        "countries": d.get("countries") or [],
        "industries": d.get("industry_names") or d.get("industries") or [],
        "year": d.get("year"),
        "added": date.fromisoformat(added) if added else None,
    }


@require_GET
def search(request):
    query, results, notes = run(request)
    last = last_page(results.total, query.per_page)
    if query.page > last and results.total:
        notes.append(f"There are only {last} pages of results.")
    facets = facet_groups(results)
    first = min(query.offset + 1, results.total)
    feed_params = urlencode(to_params(query, page=1, sort="relevance"))
    context = {
        "query": query,
        "search_query": query.text,
        "results": results,
        "facets": facets,
        "chips": chips(query, facets),
        "clear_link": _link(query, filters={}, page=1),
        "filter_count": sum(len(v) for v in query.filters.values()),
        "notes": notes + results.notices,
        "promotions": service.promotions(query.text, query.within) if query.page == 1 else [],
        "sorts": [(s, SORT_LABELS[s]) for s in SORTS],
        "cards": [hit_card(h) for h in results.hits],
        "range": {"first": first, "last": min(query.offset + query.per_page, results.total)},
        "pages": page_links(query, results.total),
        # The export takes the search's own parameters; it pages nothing.
        "export_query": urlencode(to_params(query, page=1)),
        "feed_query": feed_params,
        "correction_link": _link(query, q=results.correction, page=1, autocorrect=True)
        if results.correction
        else "",
        # The words as typed, with autocorrect off: their own results, even if there are none.
        "original_link": _link(query, q=results.corrected_from, page=1, autocorrect=False)
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
