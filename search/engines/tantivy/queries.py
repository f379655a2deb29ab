"""Queries built from ``search.query.Query``, never from a query string, analysed as the index is.

Ranking: all the words in the title first, then in title, summary or tags, then anywhere, BM25
with the shared field weights within each tier; the tiers are constant boosts on one query, so
tantivy's top-k collector ranks them in one pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from functools import lru_cache

import tantivy
from tantivy import Occur
from tantivy import Query as TQ

from search.engines.tantivy import schema as fields
from search.query import FACETS, Query, Term
from search.text import normalize, words

# Constant boosts of the first two tiers: far above any BM25 sum of the weighted fields.
TIER_BOOSTS = (2_000_000.0, 100_000.0)
# A word's score follows FTS5's BM25: its entry-wide idf times its best field's weight, saturated
# (k1 = 1.2), so entries with more of the words come first; a small share of tantivy's own per-field
# BM25 (term frequency, field length) orders the entries that tie on that.
K1 = 1.2
TF_SHARE = 0.05


def now() -> float:
    return time.time()


def boolean(clauses: list[tuple[Occur, TQ]]) -> TQ:
    return clauses[0][1] if len(clauses) == 1 and clauses[0][0] is Occur.Must else TQ.boolean_query(clauses)


class Queries:
    """Analysis and query building, mixed into ``TantivyEngine`` (which gives ``schema`` and the analyzers)."""

    # Analysis, as the index analyses

    @lru_cache(maxsize=65536)  # noqa: B019 - one engine per process and index directory
    def stem(self, word: str) -> str:
        got = self._stemmer.analyze(word)
        return got[0] if got else word

    def _tokens(self, ws: list[str], stemmed: bool) -> list[str]:
        return (self._stemmer if stemmed else self._words).analyze(" ".join(ws))

    # Query building

    def _term(self, searcher, term: Term, text_fields: Iterable[str], raw_fields: Iterable[str]) -> TQ | None:
        """A word, phrase or prefix in any of these fields (None: nothing of it can match)."""
        ws = words(normalize(term.text))
        if not ws:
            return None
        clauses = []
        if term.prefix and len(ws) == 1:
            toks = self._tokens(ws, stemmed=False)
            if not toks:
                return None
            # The word as typed is matched too, stemmed: "recycle*" finds "recycling" as "recycle" does.
            whole = self._term(searcher, Term(term.text), text_fields, ())
            if whole is not None:
                clauses.append((Occur.Should, whole))
            for f in raw_fields:
                weight = fields.FIELD_WEIGHTS[fields.RAW_WEIGHT_OF[f]]
                # Tokens are letters and digits only: nothing in them is regex syntax.
                clauses.append(
                    (Occur.Should, TQ.boost_query(TQ.regex_query(self.schema, f, toks[0] + ".*"), weight))
                )
        else:
            toks = self._tokens(ws, stemmed=True)
            if not toks:
                return None
            if len(toks) == 1:
                return self._word(searcher, toks[0], text_fields)
            for f in text_fields:
                q = TQ.phrase_query(self.schema, f, toks)
                clauses.append((Occur.Should, TQ.boost_query(q, fields.FIELD_WEIGHTS[f])))
        return TQ.boolean_query(clauses)

    def _word(self, searcher, token: str, text_fields: Iterable[str]) -> TQ:
        """One stemmed word, scored by its rarity in the whole entry as FTS5 scores it.

        tantivy's BM25 takes a word's rarity per field and sums the fields: a word common in bodies
        but rare in titles would outweigh the words that matter. Here the idf is the entry-wide one,
        floored near zero for a word most entries have (as FTS5 floors it: "on", "from"), and the
        fields' weights saturate as in FTS5's BM25 instead of adding up.
        """
        n_docs = max(1, searcher.num_docs)
        dfs = {f: searcher.doc_freq(f, token) for f in fields.TEXT_FIELDS}
        n = max(dfs.values())
        overall = max(1e-6, math.log((n_docs - n + 0.5) / (n + 0.5)))
        best, tf = [], []
        for f in text_fields:
            if dfs[f]:
                own = math.log(1 + (n_docs - dfs[f] + 0.5) / (dfs[f] + 0.5))
                q = TQ.term_query(self.schema, f, token)
                weight = fields.FIELD_WEIGHTS[f]
                best.append(TQ.const_score_query(q, overall * weight * (K1 + 1) / (weight + K1)))
                tf.append((Occur.Should, TQ.boost_query(q, TF_SHARE * weight * overall / own)))
        if not best:
            return TQ.empty_query()
        return TQ.boolean_query([(Occur.Should, TQ.disjunction_max_query(best)), *tf])

    def _scope(self, within: tuple[str, ...]) -> list[tuple[Occur, TQ]]:
        """Not expired, and under one of these site roots."""
        now_ms = int(now() * 1000)
        clauses = [
            (Occur.Must, TQ.all_query()),
            (
                Occur.MustNot,
                TQ.range_query(self.schema, "expires", tantivy.FieldType.Integer, upper_bound=now_ms),
            ),
        ]
        if within:
            clauses.append((Occur.Must, TQ.term_set_query(self.schema, "paths", sorted(set(within)))))
        return clauses

    def _filters(self, filters, skip: str | None = None) -> list[tuple[Occur, TQ]]:
        return [
            (Occur.Must, TQ.term_set_query(self.schema, fields.facet_field(f), list(vs)))
            for f, vs in filters.items()
            if f in FACETS and vs and f != skip
        ]

    def _match(self, searcher, query: Query) -> tuple[TQ | None, TQ | None, bool]:
        """What the words match (None: everything) and the ranking query; the bool: nothing can match."""
        positive = []
        lost = False
        for t in query.positive_terms:
            q = self._term(searcher, t, fields.TEXT_FIELDS, fields.RAW_FIELDS)
            if q is None:
                lost = True
            else:
                positive.append((t, q))
        negative = [
            q
            for t in query.terms
            if t.negated and (q := self._term(searcher, t, fields.TEXT_FIELDS, fields.RAW_FIELDS)) is not None
        ]
        if lost and not positive:
            return None, None, True
        occur = Occur.Should if query.match_any else Occur.Must
        clauses = [(occur, q) for _, q in positive] or [(Occur.Must, TQ.all_query())]
        clauses += [(Occur.MustNot, q) for q in negative]
        match = boolean(clauses) if positive or negative else None
        ranked = match
        if positive and not query.match_any and query.sort == "relevance":
            boosts = []
            for (text_fields, raw_fields), boost in zip(
                zip(fields.TIER_FIELDS, fields.TIER_RAW, strict=True), TIER_BOOSTS, strict=True
            ):
                tier = [self._term(searcher, t, text_fields, raw_fields) for t, _ in positive]
                if all(q is not None for q in tier):
                    boosts.append(
                        (Occur.Should, TQ.const_score_query(boolean([(Occur.Must, q) for q in tier]), boost))
                    )
            ranked = TQ.boolean_query([(Occur.Must, match), *boosts])
        return match, ranked, False
