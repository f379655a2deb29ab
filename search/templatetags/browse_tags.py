"""Counts for the browse pages (industries, clusters) and the country map, from the search engine's
facet counts on a browse (no words: pages, each once, never their documents' parts), so a number
shown there is the number the search page's facet shows and the total of the search it links to.

Template tags in ``search`` so that ``practices`` never imports ``search`` (the house plan).
"""

from __future__ import annotations

from django import template

from practices.europe_map import codes, map_context
from practices.models import Industry
from search import service

register = template.Library()


def _within(context) -> tuple[str, ...]:
    request = context.get("request")
    return service.within_for(request) if request is not None else ()


@register.simple_tag(takes_context=True)
def industry_tree(context) -> list[dict]:
    """NACE sections with their divisions beneath, each with its count of visible entries."""
    industries = list(Industry.objects.order_by("code"))
    counts = service.facet_counts("industry", [i.code for i in industries], within=_within(context))
    sections = {
        i.pk: {"industry": i, "count": counts.get(i.code, 0), "divisions": []}
        for i in industries
        if i.level == 1
    }
    for i in industries:
        if i.level != 1 and i.parent_id in sections:
            sections[i.parent_id]["divisions"].append({"industry": i, "count": counts.get(i.code, 0)})
    return sorted(sections.values(), key=lambda s: s["industry"].code)


@register.simple_tag(takes_context=True)
def with_cluster_counts(context, clusters) -> list[tuple]:
    """(cluster, count of its visible practices and presentations) for each cluster given."""
    clusters = list(clusters)
    counts = service.facet_counts("cluster", [c.slug for c in clusters], within=_within(context))
    return [(c, counts.get(c.slug, 0)) for c in clusters]


@register.inclusion_tag("includes/country_map.html", takes_context=True)
def country_map(context, facet=None) -> dict:
    """The country map, shaded by the search's country counts, each country a link to the search.

    On the search page pass its country ``facet``: the map shows the counts beside it, and its links
    keep the page's query and other filters. Elsewhere the counts are those of an empty search.
    """
    request = context.get("request")
    params = ""
    if facet is not None:
        counts = {c.value: c.count for c in facet}
        if request is not None:
            kept = request.GET.copy()
            for name in ("country", "page"):
                kept.pop(name, None)
            params = kept.urlencode()
    else:
        counts = service.facet_counts("country", codes(), within=_within(context))
    return map_context(counts, params=params)
