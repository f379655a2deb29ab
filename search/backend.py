"""A Wagtail search backend that answers admin page searches from our engine.

The admin's page search, explorer and choosers call ``pages.search()`` / ``pages.autocomplete()``
on a queryset Wagtail has already limited to what the editor may see. This backend asks our engine
for the matching page ids (ranked), adds the pages of the types our engine does not index (cluster
pages, ...) matched on their declared ``search_fields``, then what our index cannot know (drafts,
private pages, unpublished changes) by a title match, and filters that same queryset by those ids,
so Wagtail's permission filtering still decides what is shown. ``fields=`` restricts the match to
those declared fields. Other models, and query shapes our engine does not speak, go to the database
backend, which also keeps its own index up to date for them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from modelsearch import index
from modelsearch.backends import import_backend
from modelsearch.backends.base import (
    BaseSearchBackend,
    BaseSearchQueryCompiler,
    BaseSearchResults,
    EmptySearchResults,
    SearchFieldError,
)
from modelsearch.query import And, Not, Or, Phrase, PlainText, SearchQuery

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, Count, Q, QuerySet, TextField

from wagtail.models import Page, get_page_models

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


def fallback_query(
    text: str, operator: str | None, *, autocomplete: bool = False
) -> str | SearchQuery | None:
    """Free text for the database backend, read as our engine reads it: the words, each "phrase" a
    ``Phrase``, each -exclusion a ``Not``. Handed the text itself, that backend would read quotes and
    minus signs as its engine's syntax or fail on them (SQLite) and refuse null characters
    (PostgreSQL). An autocomplete gets the wanted words only: Elasticsearch's takes plain text alone.
    None when nothing is wanted."""
    terms = parse_terms(text)
    if autocomplete:
        return " ".join(t.text for t in terms if not t.negated) or None
    words = " ".join(t.text for t in terms if not t.negated and not t.phrase)
    phrases = [Phrase(t.text) for t in terms if t.phrase and not t.negated]
    excluded = [Phrase(t.text) if t.phrase else PlainText(t.text) for t in terms if t.negated]
    if not phrases and not excluded:
        return words or None
    wanted = [PlainText(words, operator=operator or "and"), *phrases] if words else phrases
    if not wanted:
        return None
    query = wanted[0]
    if len(wanted) > 1:
        query = Or(wanted) if (operator or "and").lower() == "or" else And(wanted)
    return And([query, *(Not(part) for part in excluded)]) if excluded else query


def words_filter(text: str, lookups: list[str], *, match_any: bool = False) -> Q | None:
    """Every positive word (any, with ``match_any``) in one of these fields (``<field>__icontains``
    lookups), no excluded word."""
    if not lookups:
        return None
    wanted: list[Q] = []
    excluded = Q()
    for term in parse_terms(text):
        match = Q()
        for lookup in lookups:
            match |= Q(**{lookup: term.text})
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


def title_filter(text: str, *, drafts: bool = True, match_any: bool = False) -> Q | None:
    """Every positive word (any, with ``match_any``) in the title, or with ``drafts`` the unpublished
    draft's title too; no excluded word."""
    lookups = ["title__icontains", "draft_title__icontains"] if drafts else ["title__icontains"]
    return words_filter(text, lookups, match_any=match_any)


def declared_lookups(model, fields: list[str] | None = None) -> list[str]:
    """``icontains`` lookups of the text fields a model declares in ``search_fields`` (only ``fields``,
    if given: each must be declared, as Wagtail's backends require)."""
    lookups: dict[str, str] = {}
    for field in model.get_search_fields():
        if isinstance(field, index.SearchField | index.AutocompleteField):
            try:
                text = isinstance(field.get_field(model), CharField | TextField)
            except FieldDoesNotExist:
                text = False  # a method's value (get_..._display): no column to match in SQL
            if text:
                lookups.setdefault(field.field_name, f"{field.field_name}__icontains")
        elif isinstance(field, index.RelatedFields):
            for sub in field.fields:
                if isinstance(sub, index.SearchField | index.AutocompleteField):
                    name = f"{field.field_name}__{sub.field_name}"
                    lookups.setdefault(name, f"{name}__icontains")
    if fields is None:
        return list(lookups.values())
    for name in fields:
        if name not in lookups:
            raise SearchFieldError(
                f"Cannot search with field {name!r}. Please add index.SearchField({name!r}) to "
                f"{model.__name__}.search_fields."
            )
    return [lookups[name] for name in fields]


def unindexed_page_models(model) -> list:
    """The page types under ``model`` that our engine does not index: searched on their own fields."""
    from search.documents import INDEXED_MODELS

    return [
        m
        for m in get_page_models()
        if issubclass(m, model) and m is not Page and not issubclass(m, tuple(INDEXED_MODELS))
    ]


class DeclaredFields(BaseSearchQueryCompiler):
    """Wagtail's own check of a search's filters and order (``check()``): a field of a page type's
    own that is not declared a ``FilterField`` is refused with ``FilterFieldError`` or
    ``OrderByFieldError``, which the API answers with 400, as Wagtail's backends do. The columns every
    page has (``wagtailcore.Page``'s, which the visibility rule filters on, and ``pk``) are applied by
    the database here, so they are allowed."""

    HANDLES_ORDER_BY_EXPRESSIONS = True

    def _get_filterable_field(self, field_attname):
        field = super()._get_filterable_field(field_attname)
        if field is None and _page_column(field_attname):
            return index.FilterField(field_attname)
        return field

    def _get_filter_field_path_for_column(self, column):
        if getattr(column.target, "model", None) is Page:
            return [index.FilterField(column.target.name)]
        return super()._get_filter_field_path_for_column(column)


def _page_column(name: str) -> bool:
    if name == "pk":
        return True
    try:
        # get_field knows attnames too ("owner_id"), so one lookup covers both spellings.
        return Page._meta.get_field(name).model is Page
    except FieldDoesNotExist:
        return False


@dataclass(frozen=True)
class EngineQuery:
    """The query compiler of this backend: what was asked, compiled to our engine's syntax."""

    # Without relevance the queryset's own order is kept, whatever expressions it orders by.
    HANDLES_ORDER_BY_EXPRESSIONS = True

    queryset: QuerySet
    text: str
    prefix: bool
    limit: int
    order_by_relevance: bool = True
    fields: tuple[str, ...] | None = None
    match_any: bool = False
    # Whether unpublished draft titles may match (the admin's editors), or only what the public sees.
    drafts: bool = True

    def declared_matches(self) -> Q | None:
        """Pages of the types our engine does not index whose declared search fields match."""
        condition = None
        for model in unindexed_page_models(self.queryset.model):
            words = words_filter(self.text, declared_lookups(model), match_any=self.match_any)
            if words is not None:
                match = Q(pk__in=model.objects.filter(words).values("pk"))
                condition = match if condition is None else condition | match
        return condition


class EngineSearchResults(BaseSearchResults):
    supports_facet = True

    def __init__(self, backend, query_compiler, prefetch_related=None):
        super().__init__(backend, query_compiler, prefetch_related)
        self._ids_cache: list[int] | None = None

    @property
    def _spec(self) -> EngineQuery:
        return self.query_compiler

    def _clone(self):
        new = super()._clone()
        new._ids_cache = self._ids_cache
        return new

    def _ids(self) -> list[int]:
        """Ids the editor may see: engine hits in rank order, then the other page types' matches on
        their declared fields, then title matches (drafts, private pages), newest edit first.
        With ``fields``, only matches in those fields, newest edit first."""
        if self._ids_cache is None:
            spec = self._spec
            queryset: QuerySet = spec.queryset
            if spec.fields is not None:
                ids: list[int] = []
                lookups = declared_lookups(queryset.model, list(spec.fields))
                conditions = [words_filter(spec.text, lookups, match_any=spec.match_any)]
            else:
                engine_ids = service.ranked_page_ids(
                    spec.text, limit=spec.limit, prefix_last=spec.prefix, match_any=spec.match_any
                )
                allowed = set(queryset.filter(pk__in=engine_ids).values_list("pk", flat=True))
                ids = [pk for pk in engine_ids if pk in allowed]
                conditions = [
                    spec.declared_matches(),
                    title_filter(spec.text, drafts=spec.drafts, match_any=spec.match_any),
                ]
            for condition in conditions:
                if condition is not None and len(ids) < spec.limit:
                    others = (
                        queryset.filter(condition)
                        .exclude(pk__in=ids)
                        .order_by("-latest_revision_created_at", "-pk")
                        .values_list("pk", flat=True)[: spec.limit - len(ids)]
                    )
                    ids.extend(others)
            self._ids_cache = ids
        return self._ids_cache

    def _scored(self, objects: list, ids: list[int]) -> list:
        """With ``annotate_score``: a score falling with rank (1.0 for the best), on each result."""
        if self._score_field:
            rank = {pk: n for n, pk in enumerate(ids)}
            for obj in objects:
                setattr(obj, self._score_field, 1.0 / (1 + rank.get(obj.pk, len(ids))))
        return objects

    def _do_count(self) -> int:
        return len(self._ids())

    def _do_search(self):
        spec = self._spec
        ids = self._ids()
        if not spec.order_by_relevance:
            return self._scored(list(spec.queryset.filter(pk__in=ids)[self.start : self.stop]), ids)
        wanted = ids[self.start : self.stop]
        by_pk = spec.queryset.filter(pk__in=wanted).in_bulk()
        return self._scored([by_pk[pk] for pk in wanted if pk in by_pk], ids)

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
    query_compiler_class = autocomplete_query_compiler_class = EngineQuery

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
            or (operator or "and").lower() not in ("and", "or")
            or not issubclass(queryset.model, Page)
            or not parse_terms(text)
            or fields == []
        ):
            if isinstance(query, str):
                query = fallback_query(query, operator, autocomplete=method == "autocomplete")
                if query is None:
                    return EmptySearchResults()
            return getattr(self.fallback, method)(
                query,
                model_or_queryset,
                fields=fields,
                operator=operator,
                order_by_relevance=order_by_relevance,
            )
        DeclaredFields(queryset, text, order_by_relevance=order_by_relevance).check()
        compiled = EngineQuery(
            queryset=queryset,
            text=text,
            prefix=method == "autocomplete",
            limit=self.limit,
            order_by_relevance=order_by_relevance,
            match_any=(operator or "and").lower() == "or" or getattr(query, "operator", "and") == "or",
            drafts=drafts,
            fields=tuple(fields) if fields is not None else None,
        )
        if compiled.fields is not None:
            declared_lookups(
                queryset.model, list(compiled.fields)
            )  # an undeclared field: SearchFieldError now
        return self.results_class(self, compiled)


SearchBackend = KBSearchBackend


def index_other_models(chunk_size: int = 1000) -> dict[str, int]:
    """Write every object of the models Wagtail's own search index holds (snippets, documents, images,
    the page types our engine does not index) to it; how many, by model. Idempotent.

    Rows made without ``save()`` (the industries a data migration loads, pages a bulk import makes)
    never passed through Wagtail's indexing signals; once written here, those signals keep them.
    """
    from modelsearch.backends import get_search_backend
    from modelsearch.index import get_indexed_models

    from search.documents import INDEXED_MODELS

    backend = get_search_backend()
    counts: dict[str, int] = {}
    for model in get_indexed_models():
        if issubclass(model, tuple(INDEXED_MODELS)):
            continue  # our engine's: search.service indexes them
        index = backend.get_index_for_model(model)
        if index is None:
            continue
        objects = model.get_indexed_objects().order_by("pk")
        n, last = 0, None
        while chunk := list((objects.filter(pk__gt=last) if last is not None else objects)[:chunk_size]):
            index.add_items(model, chunk)
            n, last = n + len(chunk), chunk[-1].pk
        counts[model._meta.label] = n
    return counts
