"""The requests the engine sends, built from a parsed query with no I/O (Wagtail's QueryCompiler)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from elasticsearch.dsl import Q, Search

from search.engines.base import SIMILAR_FIELDS, SIMILAR_TERMS
from search.engines.common import FIELD_WEIGHTS, TEXT_FIELDS
from search.engines.elastic.mapping import SEP
from search.facets import FACET_CAP, SUGGESTED
from search.query import FACETS, Query
from search.text import STOP_WORDS

FIELD_BOOSTS = tuple(f if w == 1 else f"{f}^{w:g}" for f, w in FIELD_WEIGHTS.items())
# The same fields unstemmed (``<field>.exact``): what a prefix matches, so "recy*" is not stemmed to "reci".
PREFIX_BOOSTS = tuple(f.replace("^", ".exact^") if "^" in f else f"{f}.exact" for f in FIELD_BOOSTS)
SNIPPET_CHARS = 220


def _regex_escape(text: str) -> str:
    return "".join(c if c.isalnum() and c.isascii() else "\\" + c for c in text)


def _term_clause(term, *, boosted: bool) -> Q:
    fields = list(FIELD_BOOSTS if boosted else TEXT_FIELDS)
    if term.phrase:
        return Q("multi_match", query=term.text, type="phrase", fields=fields)
    if term.prefix:
        # Against the unstemmed subfields: a prefix is the start of a word as written, not of a stem;
        # or the typed letters as a word, stemmed ("recycle*" finds "recycling"), as the embedded engine.
        exact = list(PREFIX_BOOSTS if boosted else (f"{f}.exact" for f in TEXT_FIELDS))
        starts = Q("multi_match", query=term.text, type="bool_prefix", fields=exact, operator="and")
        word = Q("multi_match", query=term.text, type="cross_fields", fields=fields, operator="and")
        return Q("bool", should=[starts, word], minimum_should_match=1)
    # One word may analyse to several tokens ("e-commerce"): each must be in some field.
    return Q("multi_match", query=term.text, type="cross_fields", fields=fields, operator="and")


def _expired() -> Q:
    return Q("range", expires={"lte": "now"})


def _facet_filter(facet: str, values: Iterable[str]) -> Q:
    return Q("terms", **{f"facets.{facet}": list(values)})


def build_search(query: Query, alias: str) -> Search:
    """The request for one parsed query; everything the engine asks of Elasticsearch when searching."""
    positive = [_term_clause(t, boosted=True) for t in query.positive_terms]
    negative = [_term_clause(t, boosted=False) for t in query.terms if t.negated]
    # In the query, not the post_filter, so facet counts leave expired entries out too.
    hidden = [*negative, _expired()]
    scope = []
    if query.within:
        scope.append(Q("bool", should=[Q("prefix", path=p) for p in query.within], minimum_should_match=1))
    if query.pages_only:
        scope.append(Q("term", part=False))
    if query.match_any and positive:
        main = Q("bool", should=positive, minimum_should_match=1, must_not=hidden, filter=scope)
    else:
        main = Q("bool", must=positive or [Q("match_all")], must_not=hidden, filter=scope)
    s = Search(index=alias).query(main).extra(track_total_hits=True)
    s = _sorted(s[query.offset : query.offset + query.per_page], query)
    selected = {f: v for f, v in query.filters.items() if f in FACETS and v}
    if selected:
        s = s.post_filter(Q("bool", filter=[_facet_filter(f, v) for f, v in selected.items()]))
    if query.with_facets:
        _add_facet_aggs(s, selected)
    if query.with_highlights and positive:
        s = _highlighted(s, positive)
    words = [t.text for t in query.positive_terms if not (t.phrase or t.prefix)]
    if words:
        s = _with_correction(s, words, scope)
    return s


def _sorted(s: Search, query: Query) -> Search:
    if query.sort == "title":
        return s.sort({"title.sort": "asc"}, {"key": "asc"})
    if query.sort == "newest" or query.is_empty:
        return s.sort({"date": {"order": "desc", "missing": "_last"}}, {"key": "asc"})
    return s.sort("_score", {"date": {"order": "desc", "missing": "_last"}}, {"key": "asc"})


def _add_facet_aggs(s: Search, selected: dict[str, tuple[str, ...]]) -> None:
    """Each facet counted under every other facet's filter: disjunctive counts over the match set."""
    for facet in FACETS:
        others = [_facet_filter(f, v) for f, v in selected.items() if f != facet]
        bucket = s.aggs.bucket(f"facet_{facet}", "filter", filter=Q("bool", filter=others))
        bucket.bucket(
            "values",
            "terms",
            field=f"facet_keys.{facet}",
            size=FACET_CAP,
            order=[{"_count": "desc"}, {"_key": "asc"}],
        )
        if facet in selected:
            # Selected values beyond the first FACET_CAP still need their counts.
            bucket.bucket(
                "selected",
                "terms",
                field=f"facets.{facet}",
                include=list(selected[facet]),
                size=len(selected[facet]),
            )
    if selected:
        # Labels of selected values, even those no longer matching anything.
        labels = s.aggs.bucket("selected_labels", "global")
        for facet, values in selected.items():
            labels.bucket(facet, "filter", filter=_facet_filter(facet, values)).bucket(
                "keys",
                "terms",
                field=f"facet_keys.{facet}",
                include=_keys_regex(values),
                size=len(values) * 4,
            )


def build_similar(page_id: int, alias: str, *, limit: int, within: tuple[str, ...] = ()) -> Search:
    """More-like-this over the page's own entry: other practices' pages, visible, never its own parts."""
    like = Q(
        "more_like_this",
        fields=list(SIMILAR_FIELDS),
        like=[{"_index": alias, "_id": f"page:{int(page_id)}"}],
        min_term_freq=1,
        min_doc_freq=2,
        max_query_terms=SIMILAR_TERMS,
        minimum_should_match=1,
        stop_words=sorted(STOP_WORDS),
    )
    scope = [Q("term", type="practice"), Q("term", part=False)]
    if within:
        scope.append(Q("bool", should=[Q("prefix", path=p) for p in within], minimum_should_match=1))
    query = Q("bool", must=[like], must_not=[Q("term", page_id=int(page_id)), _expired()], filter=scope)
    s = Search(index=alias).query(query).sort("_score", {"key": "asc"})
    return s[:limit]


def _highlighted(s: Search, positive: list[Q]) -> Search:
    s = s.highlight_options(
        encoder="html",
        pre_tags=["<mark>"],
        post_tags=["</mark>"],
        require_field_match=False,
        highlight_query=Q("bool", should=positive).to_dict(),
    )
    s = s.highlight("title", number_of_fragments=0)
    return s.highlight("summary", "body", fragment_size=SNIPPET_CHARS, number_of_fragments=1)


def _with_correction(s: Search, words: list[str], scope: list[Q]) -> Search:
    """The phrase suggester's correction of the plain words (up to two edits a word; the response
    keeps only those within ``edits_allowed``)."""
    return s.suggest(
        "did_you_mean",
        " ".join(words),
        phrase={
            "field": "spell",
            "size": 1,
            "gram_size": 3,
            "max_errors": 2,
            "direct_generator": [
                {"field": "spell", "suggest_mode": "missing", "max_edits": 2, "min_word_length": 3}
            ],
            # Only a correction that finds some visible entry: the spell field also holds
            # the words of expired entries and of other sites.
            "collate": {"query": {"source": _collate_query(scope)}, "prune": False},
        },
    )


def _collate_query(scope: list[Q]) -> dict[str, Any]:
    """The suggester's check of a corrected text (a mustache template over ``{{suggestion}}``)."""
    words = Q(
        "multi_match", query="{{suggestion}}", type="cross_fields", fields=list(TEXT_FIELDS), operator="and"
    )
    return Q("bool", must=[words], must_not=[_expired()], filter=scope).to_dict()


def _keys_regex(values: Iterable[str]) -> str:
    """Terms-aggregation ``include`` matching the stored keys of these exact values."""
    alternatives = "|".join(_regex_escape(v) for v in values)
    return f"[^{SEP}]*{SEP}[^{SEP}]*{SEP}({alternatives})"


def _prefix_regex(folded_prefix: str) -> str:
    """Keys whose folded label has a word starting with the prefix."""
    body = _regex_escape(folded_prefix)
    return f"([^{SEP}]*[^a-z0-9{SEP}])?{body}[^{SEP}]*{SEP}.*"


def autocomplete_search(alias: str, prefix: str, folded: str, limit: int, within: tuple[str, ...]) -> Search:
    """The request for autocomplete: titles starting with the typed words, and facet labels."""
    fields = ["title.complete", "title.complete._2gram", "title.complete._3gram"]
    scope = []
    if within:
        scope.append(Q("bool", should=[Q("prefix", path=p) for p in within], minimum_should_match=1))
    s = Search(index=alias).query(
        Q(
            "bool",
            must=[Q("multi_match", query=prefix, type="bool_prefix", fields=fields, operator="and")],
            must_not=[_expired()],
            filter=[Q("term", part=False), *scope],
        )
    )
    # More titles than needed: several entries may share one title.
    s = s.source(["title", "url"]).extra(size=limit * 3)
    # Labels are counted over every visible entry of the site, not only the titles matched.
    labels = s.aggs.bucket("labels", "global").bucket(
        "visible", "filter", filter=Q("bool", must_not=[_expired()], filter=scope)
    )
    for facet in SUGGESTED:
        labels.bucket(
            facet,
            "terms",
            field=f"facet_keys.{facet}",
            include=_prefix_regex(folded),
            size=limit,
            order=[{"_count": "desc"}, {"_key": "asc"}],
        )
    return s
