"""A search request parsed into one immutable query.

Every input is valid: the parser never raises on what a member types. Quotes left open close at
the end, stray operators are dropped, control characters are removed and the text is capped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from search.facets import ENTRY_TYPES, REGISTRY
from search.facets import NAMES as FACETS

__all__ = ["ENTRY_TYPES", "FACETS", "Query", "QueryError", "Term", "parse", "parse_terms", "to_params"]

SORTS = ("relevance", "newest", "title")
PER_PAGE = 20
MAX_PAGE = 500
MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_FILTER_VALUES = 50

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# Punctuation that carries no meaning of its own in a word: operators of other syntaxes, brackets.
_WORD_JUNK = re.compile(r"[\"()\[\]{}:^~*+=<>!?;,|\\/&%$#@`]+")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


class QueryError(ValueError):
    """A request parameter that cannot be honoured (bad sort, page out of range, unknown facet value)."""


@dataclass(frozen=True)
class Term:
    """One word or phrase. ``text`` is as typed (trimmed); engines normalise it themselves."""

    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True)
class Query:
    text: str = ""
    terms: tuple[Term, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE
    # Tree path prefixes of the sites whose pages may be returned (empty: every site).
    within: tuple[str, ...] = ()
    # Ask the engine for facet counts (the search page and API do; feeds and exports do not).
    with_facets: bool = True
    # Ask for highlighted titles and snippets.
    with_highlights: bool = True
    # Match entries with any of the positive terms (ranked by how well they match), not all of them.
    match_any: bool = False
    # Show a spelling suggestion's results when the words find nothing ("autocorrect=off": never).
    autocorrect: bool = True

    @property
    def positive_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def is_empty(self) -> bool:
        """No words to match: the query browses by filters alone."""
        return not self.positive_terms

    @property
    def pages_only(self) -> bool:
        """Browsing (no words) lists pages, each once; a document's pages are found by their words.

        So a facet's count on a browse (``/industries/``, ``/clusters/``, the map) counts practices,
        presentations and meetings, and equals the total of the search its link opens.
        """
        return self.is_empty

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def with_text(self, text: str) -> Query:
        """The same query with other words (used to run a spelling suggestion)."""
        return replace(self, text=text, terms=parse_terms(text))

    def with_any_words(self) -> Query:
        """The same query matching any of its words: the fallback when no entry has them all."""
        return replace(self, match_any=True)

    def with_filters(self, filters: Mapping[str, tuple[str, ...]]) -> Query:
        return replace(self, filters=MappingProxyType(dict(filters)))


def clean_text(raw: str) -> str:
    text = _CONTROL.sub(" ", raw or "")
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def _plain_words(text: str) -> list[str]:
    """The words of ``text`` without operator punctuation; a lone "-" or "." is no word."""
    return [w.strip("-'.") for w in _WORD_JUNK.sub(" ", text).split() if w.strip("-'.")]


def parse_terms(raw: str) -> tuple[Term, ...]:
    """Words, "exact phrases", -exclusions and prefix* from free text; never raises."""
    terms: list[Term] = []
    for m in _TOKEN.finditer(clean_text(raw)):
        negated_phrase, phrase, word = m.group(1), m.group(2), m.group(3)
        if phrase is not None:
            text = " ".join(_plain_words(phrase))
            if text:
                is_phrase = " " in text
                terms.append(Term(text, phrase=is_phrase, negated=bool(negated_phrase)))
            continue
        negated = word.startswith("-") and len(word) > 1
        prefix = word.rstrip('"').endswith("*")
        if word in _OPERATORS:
            continue
        parts = _plain_words(word.lstrip("-"))
        if not parts:
            continue
        text = " ".join(parts)
        if len(parts) > 1:
            # "a:b" or "x(y)": punctuation joined words the member meant as one phrase.
            terms.append(Term(" ".join(parts), phrase=True, negated=negated))
        else:
            terms.append(Term(text, prefix=prefix and len(text) >= 2, negated=negated))
        if len(terms) >= MAX_TERMS:
            break
    return tuple(terms[:MAX_TERMS])


def parse(params: Mapping, *, strict: bool = False, within: tuple[str, ...] = ()) -> tuple[Query, list[str]]:
    """Build a query from request parameters (a QueryDict or a dict of lists/strings).

    Returns the query and a list of notes on what was ignored. With ``strict`` a bad sort or page
    raises ``QueryError`` (the API answers 400); otherwise the default is used and noted.
    """
    notes: list[str] = []
    # Checked in this order: the notes' order, and with ``strict`` which error is raised, depend on it.
    text = _words(params, notes)
    sort = _sort(params, strict, notes)
    page = _page(params, strict, notes)
    autocorrect = _autocorrect(params, strict, notes)
    filters = _filters(params, strict, notes)
    query = Query(
        text=text,
        terms=parse_terms(text),
        filters=MappingProxyType(filters),
        sort=sort,
        page=page,
        within=within,
        autocorrect=autocorrect == "on",
    )
    return query, notes


def _values(params: Mapping, name: str) -> list[str]:
    """A parameter's values, comma-separated ones split, each cleaned, cut at 100 characters, once."""
    if hasattr(params, "getlist"):
        got = params.getlist(name)
    else:
        got = params.get(name, [])
        got = [got] if isinstance(got, str) else list(got)
    out = []
    for v in got:
        for part in str(v).split(","):
            part = clean_text(part)[:100]
            if part and part not in out:
                out.append(part)
    return out


def _words(params: Mapping, notes: list[str]) -> str:
    # The words are taken whole: _values() would split them at commas and cut them at 100 characters.
    raw_q = params.getlist("q") if hasattr(params, "getlist") else params.get("q", "")
    raw_q = " ".join(str(v) for v in ([raw_q] if isinstance(raw_q, str) else raw_q))
    if len(" ".join(raw_q.split())) > MAX_QUERY_CHARS:
        notes.append(f"Your search was shortened to its first {MAX_QUERY_CHARS} characters.")
    return clean_text(raw_q)


def _sort(params: Mapping, strict: bool, notes: list[str]) -> str:
    sort = (_values(params, "sort") or ["relevance"])[0]
    if sort not in SORTS:
        if strict:
            raise QueryError(f"Unknown sort {sort!r}: use one of {', '.join(SORTS)}.")
        notes.append(f"Unknown sort {sort!r} was ignored.")
        sort = "relevance"
    return sort


def _page(params: Mapping, strict: bool, notes: list[str]) -> int:
    page_raw = (_values(params, "page") or ["1"])[0]
    try:
        page = int(page_raw)
        if not 1 <= page <= MAX_PAGE:
            raise ValueError
    except ValueError:
        if strict:
            raise QueryError(f"Page must be a whole number from 1 to {MAX_PAGE}.") from None
        notes.append(f"Page {page_raw!r} is not a page number; showing page 1.")
        page = 1
    return page


def _autocorrect(params: Mapping, strict: bool, notes: list[str]) -> str:
    autocorrect = (_values(params, "autocorrect") or ["on"])[0].lower()
    if autocorrect not in ("on", "off"):
        if strict:
            raise QueryError(f"autocorrect must be on or off, not {autocorrect!r}.")
        notes.append(f"autocorrect {autocorrect!r} was ignored.")
        autocorrect = "on"
    return autocorrect


def _filters(params: Mapping, strict: bool, notes: list[str]) -> dict[str, tuple[str, ...]]:
    """Each facet's chosen values, normalised; values a facet finds invalid are left out (noted)."""
    filters: dict[str, tuple[str, ...]] = {}
    for facet in REGISTRY:
        chosen = [facet.normalise(v) for v in _values(params, facet.name)[:MAX_FILTER_VALUES]]
        if facet.valid is not None:
            bad = [v for v in chosen if not facet.valid(v)]
            if bad:
                if strict:
                    raise QueryError(facet.invalid.format(value=bad[0]))
                notes.append(facet.ignored.format(value=bad[0]))
            chosen = [v for v in chosen if facet.valid(v)]
        if chosen:
            filters[facet.name] = tuple(chosen)
    return filters


def to_params(query: Query, **overrides) -> list[tuple[str, str]]:
    """The query as URL parameters, so every state of a search can be shared as a link."""
    pairs: list[tuple[str, str]] = []
    text = overrides.get("q", query.text)
    if text:
        pairs.append(("q", text))
    filters = overrides.get("filters", query.filters)
    for facet in FACETS:
        for value in filters.get(facet, ()):
            pairs.append((facet, value))
    sort = overrides.get("sort", query.sort)
    if sort != "relevance":
        pairs.append(("sort", sort))
    if not overrides.get("autocorrect", query.autocorrect):
        pairs.append(("autocorrect", "off"))
    page = overrides.get("page", query.page)
    if page != 1:
        pairs.append(("page", str(page)))
    return pairs
