"""A Wagtail search backend that answers admin page searches from our engine.

The admin's page search, explorer and choosers call ``pages.search()`` / ``pages.autocomplete()``
on a queryset Wagtail has already limited to what the editor may see. This backend asks our engine
for the matching page ids (ranked), adds the pages our index cannot know (drafts, private pages,
unpublished changes, page types we do not index) by a title match on the page table, and filters
that same queryset by those ids, so Wagtail's permission filtering still decides what is shown.
Other models, and query shapes our engine does not speak, go to the database backend, which also
keeps its own index up to date for them.
"""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace

from modelsearch.backends import import_backend
from modelsearch.backends.base import BaseSearchBackend, BaseSearchResults, EmptySearchResults
from modelsearch.query import Phrase, PlainText

from django.db.models import Count, Q, QuerySet

from wagtail.models import Page

from search import service
from search.query import parse_terms

DEFAULT_FALLBACK = "modelsearch.backends.database"


def query_text(query) -> str | None:
    """The query as our engine's syntax, or None for shapes it does not speak (boosts, match-all)."""
    if isinstance(query, str):
        return query
    if isinstance(query, PlainText):
        return query.query_string
    if isinstance(query, Phrase):
        return '"' + query.query_string.replace('"', " ") + '"'
    return None


def title_filter(text: str, *, drafts: bool = True, match_any: bool = False) -> Q | None:
    """Every positive word (any, with ``match_any``) in the title, or with ``drafts`` the unpublished
    draft's title too; no excluded word."""
    wanted: list[Q] = []
    excluded = Q()
    for term in parse_terms(text):
        match = Q(title__icontains=term.text)
        if drafts:
            match |= Q(draft_title__icontains=term.text)
        if term.negated:
            excluded &= ~match
        else:
            wanted.append(match)
    if not wanted:
        return None
    condition = wanted[0]
    for match in wanted[1:]:
        condition = (condition | match) if match_any else (condition & match)
    return condition & excluded


class EngineSearchResults(BaseSearchResults):
    supports_facet = True

    def __init__(self, backend, query_compiler, prefetch_related=None):
        super().__init__(backend, query_compiler, prefetch_related)
        self._ids_cache: list[int] | None = None

    @property
    def _spec(self):
        return self.query_compiler

    def _clone(self):
        new = super()._clone()
        new._ids_cache = self._ids_cache
        return new

    def _ids(self) -> list[int]:
        """Ids the editor may see: engine hits in rank order, then title matches, newest edit first."""
        if self._ids_cache is None:
            spec = self._spec
            queryset: QuerySet = spec.queryset
            engine_ids = service.ranked_page_ids(
                spec.text, limit=spec.limit, prefix_last=spec.prefix, match_any=spec.match_any
            )
            allowed = set(queryset.filter(pk__in=engine_ids).values_list("pk", flat=True))
            ids = [pk for pk in engine_ids if pk in allowed]
            condition = title_filter(spec.text, drafts=spec.drafts, match_any=spec.match_any)
            if condition is not None:
                others = (
                    queryset.filter(condition)
                    .exclude(pk__in=ids)
                    .order_by("-latest_revision_created_at", "-pk")
                    .values_list("pk", flat=True)[: spec.limit]
                )
                ids.extend(others)
            self._ids_cache = ids
        return self._ids_cache

    def _do_count(self) -> int:
        return len(self._ids())

    def _do_search(self):
        spec = self._spec
        ids = self._ids()
        if not spec.order_by_relevance:
            return list(spec.queryset.filter(pk__in=ids)[self.start : self.stop])
        wanted = ids[self.start : self.stop]
        by_pk = spec.queryset.filter(pk__in=wanted).in_bulk()
        return [by_pk[pk] for pk in wanted if pk in by_pk]

    def facet(self, field_name):
        rows = (
            self._spec.queryset.filter(pk__in=self._ids())
            .values(field_name)
            .annotate(count=Count("pk"))
            .order_by("-count")
        )
        return OrderedDict((row[field_name], row["count"]) for row in rows)


class KBSearchBackend(BaseSearchBackend):
    """Options: FALLBACK (the backend for everything else, default the database backend) and
    MAX_ENGINE_HITS (how many ranked ids to take from our engine, default 1000)."""

    results_class = EngineSearchResults

    def __init__(self, params):
        params = dict(params)
        fallback = params.pop("FALLBACK", DEFAULT_FALLBACK)
        self.limit = int(params.pop("MAX_ENGINE_HITS", 1000))
        super().__init__(params)
        self.fallback = import_backend(fallback)(params)

    # Indexing stays with the database backend: it serves every other model.
    @property
    def rebuilder_class(self):
        return self.fallback.rebuilder_class

    @property
    def catch_indexing_errors(self):
        return self.fallback.catch_indexing_errors

    def get_index_for_model(self, model):
        return self.fallback.get_index_for_model(model)

    def all_indexes(self):
        return self.fallback.all_indexes()

    def refresh_indexes(self):
        return self.fallback.refresh_indexes()

    def reset_indexes(self):
        return self.fallback.reset_indexes()

    def search(self, query, model_or_queryset, fields=None, operator=None, order_by_relevance=True):
        return self._answer("search", query, model_or_queryset, fields, operator, order_by_relevance)

    def autocomplete(self, query, model_or_queryset, fields=None, operator=None, order_by_relevance=True):
        return self._answer("autocomplete", query, model_or_queryset, fields, operator, order_by_relevance)

    def public_search(self, query, queryset, operator=None, order_by_relevance=True):
        """A search for visitors (the public API): pages matched by what the public sees of them, the
        index and live titles, never an unpublished draft's title."""
        return self._answer("search", query, queryset, None, operator, order_by_relevance, drafts=False)

    def _answer(self, method, query, model_or_queryset, fields, operator, order_by_relevance, drafts=True):
        if isinstance(model_or_queryset, QuerySet):
            queryset = model_or_queryset
        else:
            queryset = model_or_queryset._default_manager.all()
        text = query_text(query)
        if (
            text is None
            or fields
            or (operator or "and").lower() not in ("and", "or")
            or not issubclass(queryset.model, Page)
            or not parse_terms(text)
        ):
            if isinstance(query, str):
                # The database backends read stray quotes as syntax (SQLite) and refuse null
                # characters (PostgreSQL): hand them the words only.
                query = " ".join(t.text for t in parse_terms(query) if not t.negated)
                if not query:
                    return EmptySearchResults()
            return getattr(self.fallback, method)(
                query,
                model_or_queryset,
                fields=fields,
                operator=operator,
                order_by_relevance=order_by_relevance,
            )
        spec = SimpleNamespace(
            queryset=queryset,
            text=text,
            prefix=method == "autocomplete",
            limit=self.limit,
            order_by_relevance=order_by_relevance,
            match_any=(operator or "and").lower() == "or" or getattr(query, "operator", "and") == "or",
            drafts=drafts,
        )
        return self.results_class(self, spec)


SearchBackend = KBSearchBackend
