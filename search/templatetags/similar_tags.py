"""The practice page's "Similar practices" block, found by the search engine.

A template tag in ``search`` so that ``practices`` never imports ``search`` (the house plan):
the practice template loads it, the page model knows nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import template

from search import service

register = template.Library()


@dataclass
class Lead:
    """A publisher working on practices like this one: who, where, how many of them."""

    cluster: object
    countries: list[str] = field(default_factory=list)
    # The organisations behind them (for a source platform, the real leads).
    organisations: list[str] = field(default_factory=list)
    practices: int = 0


def cooperation_leads(similar: list[service.SimilarPractice]) -> list[Lead]:
    """The publishers of these practices with their countries and organisations, most practices first."""
    leads: dict[int, Lead] = {}
    for item in similar:
        if item.cluster is None:
            continue
        lead = leads.setdefault(item.cluster.pk, Lead(item.cluster))
        lead.practices += 1
        for country in item.page.countries:
            if country.name not in lead.countries:
                lead.countries.append(country.name)
        if item.page.organisation and item.page.organisation not in lead.organisations:
            lead.organisations.append(item.page.organisation)
    for lead in leads.values():
        lead.countries.sort()
    return sorted(leads.values(), key=lambda lead: -lead.practices)


@register.simple_tag(takes_context=True)
def similar_practices(context, page, limit: int = 6) -> dict:
    request = context.get("request")
    within = service.within_for(request) if request is not None else ()
    similar = service.similar_practices(page, limit=limit, within=within)
    return {"practices": similar, "leads": cooperation_leads(similar)}
