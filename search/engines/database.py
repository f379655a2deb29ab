"""The last resort when no index can answer (damaged, missing, being rebuilt): a plain search in the
database, over the same visibility rule as the index, slower and without ranking, facets, stemming,
folding or spelling suggestions. Newest first; the service adds a notice saying so.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from django.db.models import Q

from wagtail.models import Page

from practices import visibility
from practices.models import ClusterPage, Industry
from search import documents
from search.engines.base import Completion, Hit, Results
from search.query import Query

_TEXT_FIELDS = (
    "title",
    "search_description",
    "practicepage__summary",
    "practicepage__challenge",
    "practicepage__solution",
    "practicepage__results",
    "practicepage__organisation",
    "presentationpage__abstract",
    "presentationpage__presenter",
    "eventpage__summary",
    "eventpage__city",
)
_MODELS = {name: model for model, name in documents.INDEXED_MODELS.items()}


def _matches(word: str) -> Q:
    q = Q()
    for name in _TEXT_FIELDS:
        q |= Q(**{f"{name}__icontains": word})
    return q


def _in_subtrees(paths: Iterable[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return q


def _filter(facet: str, values: tuple[str, ...]) -> Q | None:
    if facet == "type":
        return Q(content_type__model__in=[_MODELS[v]._meta.model_name for v in values if v in _MODELS])
    if facet == "cluster":
        clusters = ClusterPage.objects.filter(slug__in=values)
        return _in_subtrees(c.path for c in clusters) | Q(presentationpage__presenting_cluster__in=clusters)
    if facet == "tag":
        return Q(practicepage__tags__name__in=values) | Q(presentationpage__tags__name__in=values)
    if facet == "industry":
        industries = Industry.objects.filter(Q(code__in=values) | Q(parent__code__in=values))
        return Q(practicepage__industries__in=industries) | Q(presentationpage__industries__in=industries)
    if facet == "year":
        years = [int(v) for v in values if v.isdigit()]
        return Q(practicepage__start_year__in=years) | Q(eventpage__start_date__year__in=years)
    if facet == "country":
        q = Q(pk__in=[])
        for code in values:
            q |= Q(practicepage__countries__contains=code) | Q(eventpage__country=code)
        return q
    return None


class DatabaseEngine:
    name = "database"

    def search(self, query: Query) -> Results:
        pages = visibility.visible(Page.objects.type(*documents.INDEXED_MODELS))
        if query.within:
            pages = pages.filter(_in_subtrees(query.within))
        positive = [_matches(t.text) for t in query.terms if not t.negated and t.text]
        if positive:
            condition = positive[0]
            for q in positive[1:]:
                condition = (condition | q) if query.match_any else (condition & q)
            pages = pages.filter(condition)
        for term in query.terms:
            if term.negated and term.text:
                pages = pages.exclude(_matches(term.text))
        for facet, values in query.filters.items():
            condition = _filter(facet, values)
            if condition is not None and values:
                pages = pages.filter(condition)
        pages = pages.distinct()
        order = ("title", "pk") if query.sort == "title" else ("-first_published_at", "-pk")
        total = pages.count()
        ids = list(
            pages.order_by(*order).values_list("pk", flat=True)[query.offset : query.offset + query.per_page]
        )
        entries = {e.page_id: e for e in documents.iter_entries(ids) if e.document is None}
        hits = [
            Hit(
                key=e.key,
                page_id=e.page_id,
                type=e.type,
                title=e.title,
                url=e.url,
                title_html=html.escape(e.title),
                snippet_html=html.escape(e.summary[:300]),
                display=e.display,
            )
            for e in (entries.get(pk) for pk in ids)
            if e is not None
        ]
        return Results(total=total, hits=hits)

    def autocomplete(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
        return []
