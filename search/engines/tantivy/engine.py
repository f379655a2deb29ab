"""The tantivy engine: queries built from ``search.query.Query``, never from a query string.

Ranking: all the words in the title first, then in title, summary or tags, then anywhere, BM25
with the shared field weights within each tier; the tiers are constant boosts on one query, so
tantivy's top-k collector ranks them in one pass. Facets are terms aggregations: one for the facets
no filter is set on, one per active facet over the other filters (disjunctive counts).
"""

from __future__ import annotations

import html
import json
import math
import threading
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import tantivy
from tantivy import Occur
from tantivy import Query as TQ

from search.engines.base import Completion, DocumentPart, Engine, Entry, FacetCount, Hit, Results
from search.engines.common import merge_completions, unique_titles
from search.engines.fts5 import _starts_words, mark, snippet, spelling
from search.engines.tantivy import schema as fields
from search.engines.tantivy.store import Store, page_ids
from search.facets import FACET_CAP, SUGGESTED, ordered
from search.query import FACETS, Query, Term
from search.text import normalize, normalized_words, words

# Constant boosts of the first two tiers: far above any BM25 sum of the weighted fields.
TIER_BOOSTS = (2_000_000.0, 100_000.0)
# Values read per facet, most frequent first: enough for the FACET_CAP shown, ties at the cut ordered
# by label; a chosen value past them is counted on its own.
FACET_VALUES = 4 * FACET_CAP
# A word's score follows FTS5's BM25: its entry-wide idf times its best field's weight, saturated
# (k1 = 1.2), so entries with more of the words come first; a small share of tantivy's own per-field
# BM25 (term frequency, field length) orders the entries that tie on that.
K1 = 1.2
TF_SHARE = 0.05


def _now() -> float:
    return time.time()


def _boolean(clauses: list[tuple[Occur, TQ]]) -> TQ:
    return clauses[0][1] if len(clauses) == 1 and clauses[0][0] is Occur.Must else TQ.boolean_query(clauses)


class _Matcher:
    """Whether a word of original text is one the query matched: same stem, or a prefix term's start."""

    def __init__(self, stem, stems: frozenset[str], prefixes: tuple[str, ...]):
        self.stem, self.stems, self.prefixes = stem, stems, prefixes
        self.seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        if word not in self.seen:
            self.seen[word] = any(
                self.stem(w) in self.stems
                or w in self.stems
                or (self.prefixes and w.startswith(self.prefixes))
                for w in normalized_words(word)
            )
        return self.seen[word]


class TantivyEngine(Engine):
    name = "tantivy"

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.store = Store(self.directory)
        self.schema = self.store.schema
        self._stemmer = fields.analyzer(stemmed=True)
        self._words = fields.analyzer(stemmed=False)
        self._labels_lock = threading.Lock()
        self._labels: dict = {}

    # Analysis, as the index analyses

    @lru_cache(maxsize=65536)  # noqa: B019 - one engine per process and index directory
    def stem(self, word: str) -> str:
        got = self._stemmer.analyze(word)
        return got[0] if got else word

    def _tokens(self, ws: list[str], stemmed: bool) -> list[str]:
        return (self._stemmer if stemmed else self._words).analyze(" ".join(ws))

    # Writing

    def index(self, entries: Iterable[Entry]) -> int:
        entries = list(entries)
        if entries:
            self.store.submit([], entries)
        return len(entries)

    def remove_pages(self, page_ids_: Iterable[int]) -> int:
        ids = sorted({int(p) for p in page_ids_})
        if not ids:
            return 0
        n = self._count(TQ.term_set_query(self.schema, "page_id", ids))
        self.store.submit(ids, [])
        return n

    def replace_pages(self, page_ids_: Iterable[int], entries: Iterable[Entry]) -> int:
        """These pages get exactly these entries, in one commit: no search sees them missing."""
        entries = list(entries)
        self.store.submit(list(page_ids_), entries)
        return len(entries)

    def rebuild(self, entries: Iterable[Entry], *, expected_page_ids: set[int] | None = None) -> int:
        with self.store.rebuilding():
            path, n = self.store.build(entries, expected_page_ids=expected_page_ids)
            self.store.swap(path)
        return n

    # Reading

    def _searcher(self) -> tantivy.Searcher:
        return self.store.live().searcher()

    def warm(self) -> None:
        self._searcher()

    def count(self) -> int:
        return self._searcher().num_docs

    def page_ids(self) -> set[int]:
        return page_ids(self._searcher())

    def health(self) -> dict:
        return {
            "reachable": True,
            "entries": self.count(),
            "pages": len(self.page_ids()),
            "error": "",
            "pending": self.store.pending(),
        }

    def _count(self, query: TQ) -> int:
        return self._searcher().search(query, 1, count=True).count

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
        now_ms = int(_now() * 1000)
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
        match = _boolean(clauses) if positive or negative else None
        ranked = match
        if positive and not query.match_any and query.sort == "relevance":
            boosts = []
            for (text_fields, raw_fields), boost in zip(
                zip(fields.TIER_FIELDS, fields.TIER_RAW, strict=True), TIER_BOOSTS, strict=True
            ):
                tier = [self._term(searcher, t, text_fields, raw_fields) for t, _ in positive]
                if all(q is not None for q in tier):
                    boosts.append(
                        (Occur.Should, TQ.const_score_query(_boolean([(Occur.Must, q) for q in tier]), boost))
                    )
            ranked = TQ.boolean_query([(Occur.Must, match), *boosts])
        return match, ranked, False

    # Search

    def search(self, query: Query) -> Results:
        searcher = self._searcher()
        match, ranked, lost = self._match(searcher, query)
        scope = self._scope(query.within)
        if query.pages_only:
            scope.append((Occur.Must, TQ.term_query(self.schema, "kind", "page")))
        if lost:
            return Results(
                total=0, hits=[], facets=self._facets(searcher, query, None) if query.with_facets else {}
            )
        base = scope + ([(Occur.Must, match)] if match is not None else [])
        final = TQ.boolean_query(base + self._filters(query.filters))
        ranked_final = TQ.boolean_query(
            scope + ([(Occur.Must, ranked)] if ranked is not None else []) + self._filters(query.filters)
        )
        if query.sort == "title":
            order = {"order_by_field": "title_sort", "order": tantivy.Order.Asc}
        elif query.sort == "newest" or ranked is None or not query.positive_terms:
            order = {"order_by_field": "date", "order": tantivy.Order.Desc}
        else:
            order = {}
        found = searcher.search(
            ranked_final if not order else final,
            max(1, query.per_page),
            count=True,
            offset=query.offset,
            **order,
        )
        total = found.count
        hits = self._hits(searcher, query, found.hits, scored=not order)
        facets = self._facets(searcher, query, base) if query.with_facets else {}
        suggestion = self._spelling(searcher, query) if match is not None and query.positive_terms else None
        return Results(total=total, hits=hits, facets=facets, correction=suggestion)

    def _hits(self, searcher: tantivy.Searcher, query: Query, found, scored: bool) -> list[Hit]:
        matcher = self._matcher(query) if query.with_highlights else None
        hits = []
        for score, address in found:
            s = json.loads(searcher.doc(address).get_first("stored"))
            if matcher is not None:
                title_html = mark(s["title"], matcher)
                snippet_html = snippet(s["summary"], s["body"], matcher)
            else:
                title_html = html.escape(s["title"])
                snippet_html = snippet(s["summary"], s["body"], None)
            hits.append(
                Hit(
                    key=s["key"],
                    page_id=s["page_id"],
                    type=s["type"],
                    title=s["title"],
                    url=s["url"],
                    title_html=title_html,
                    snippet_html=snippet_html,
                    score=float(score) if scored else 0.0,
                    display=s["display"],
                    document=DocumentPart(**s["document"]) if s["document"] else None,
                )
            )
        return hits

    def _matcher(self, query: Query) -> _Matcher:
        stems, prefixes = set(), []
        for t in query.positive_terms:
            ws = words(normalize(t.text))
            if t.prefix and len(ws) == 1:
                prefixes.append(ws[0])
                stems.add(self.stem(ws[0]))
            else:
                stems.update(self.stem(w) for w in ws)
        return _Matcher(self.stem, frozenset(stems), tuple(prefixes))

    # Facets

    def _buckets(self, searcher, query: TQ, facets: Iterable[str]) -> dict[str, dict[str, tuple[int, str]]]:
        """value -> (count, label) of each facet over the entries ``query`` matches."""
        aggs = {f: {"terms": {"field": fields.label_field(f), "size": FACET_VALUES}} for f in facets}
        if not aggs:
            return {}
        out: dict[str, dict[str, tuple[int, str]]] = {}
        for facet, result in searcher.aggregate(query, aggs).items():
            counts: dict[str, tuple[int, str]] = {}
            for b in result["buckets"]:
                value, _, label = b["key"].partition(fields.LABEL_SEP)
                n, old_label = counts.get(value, (0, label))
                # A renamed value is labelled as most of its entries are, until they are all re-indexed.
                counts[value] = (n + b["doc_count"], label if b["doc_count"] > n else old_label)
            out[facet] = counts
        return out

    def _facets(self, searcher, query: Query, base: list | None) -> dict[str, list[FacetCount]]:
        active = [f for f in FACETS if query.filters.get(f)]
        counts: dict[str, dict[str, tuple[int, str]]] = {f: {} for f in FACETS}
        if base is not None:
            rest = [f for f in FACETS if f not in active]
            counts.update(
                self._buckets(searcher, TQ.boolean_query(base + self._filters(query.filters)), rest)
            )
            for facet in active:
                over = base + self._filters(query.filters, skip=facet)
                counts.update(self._buckets(searcher, TQ.boolean_query(over), [facet]))
                # A chosen value past the values read is counted on its own.
                for v in set(query.filters[facet]) - counts[facet].keys():
                    term = (Occur.Must, TQ.term_query(self.schema, fields.facet_field(facet), v))
                    n = searcher.search(TQ.boolean_query([*over, term]), 1, count=True).count
                    if n:
                        counts[facet][v] = (n, self._labels_of(searcher, facet, {v}).get(v, v))
        out = {}
        for facet in FACETS:
            chosen = set(query.filters.get(facet, ()))
            values = [
                FacetCount(v, n, v in chosen, label)
                for v, (n, label) in counts[facet].items()
                if n or v in chosen
            ]
            missing = chosen - counts[facet].keys()
            if missing:
                labels = self._labels_of(searcher, facet, missing)
                values += [FacetCount(v, 0, True, labels.get(v, v)) for v in missing]
            out[facet] = ordered(values, chosen)
        return out

    def _labels_of(self, searcher, facet: str, values: set[str]) -> dict[str, str]:
        """Labels of selected values no matching entry has (shown with a count of 0)."""
        q = TQ.term_set_query(self.schema, fields.facet_field(facet), sorted(values))
        return {v: label for v, (_, label) in self._buckets(searcher, q, [facet]).get(facet, {}).items()}

    # Spelling

    def _spelling(self, searcher, query: Query) -> str | None:
        def known(word: str) -> bool:
            stemmed = self.stem(word)
            return any(searcher.doc_freq(f, stemmed) for f in fields.TEXT_FIELDS)

        def vocabulary(word: str) -> dict[str, int]:
            # Words as written that share the first or second letter, at most two letters longer or shorter.
            vocab: dict[str, int] = {}
            for letter in dict.fromkeys(word[:2]):
                for f in fields.RAW_FIELDS:
                    for w, df in searcher.terms_with_prefix(f, letter):
                        if abs(len(w) - len(word)) <= 2:
                            vocab[w] = vocab.get(w, 0) + df
            return vocab

        return spelling(query, known, vocabulary)

    # Autocomplete

    def _named(self, searcher, within: tuple[str, ...]) -> dict[str, dict[str, tuple[int, str]]]:
        """Tags, clusters and industries with their counts in scope, kept until a write or an expiry."""
        live = self.store._live
        key = (live.name, live.meta_stamp, tuple(sorted(set(within))))
        now = _now()
        with self._labels_lock:
            cached = self._labels.get(key)
            if cached is not None and now < cached[0]:
                return cached[1]
        named = self._buckets(searcher, TQ.boolean_query(self._scope(within)), SUGGESTED)
        upcoming = searcher.search(
            TQ.range_query(
                self.schema, "expires", tantivy.FieldType.Integer, lower_bound=int(now * 1000) + 1
            ),
            1,
            count=False,
            order_by_field="expires",
            order=tantivy.Order.Asc,
        ).hits
        until = upcoming[0][0] / 1000 if upcoming else math.inf
        with self._labels_lock:
            self._labels = {key: (until, named)}
        return named

    def autocomplete(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
        ws = words(normalize(prefix or ""))[:8]
        if not ws or limit <= 0:
            return []
        searcher = self._searcher()
        labels: list[tuple[int, str, Completion]] = []
        for facet, values in self._named(searcher, within).items():
            for value, (n, label) in values.items():
                if n and _starts_words(normalized_words(label), ws):
                    labels.append((n, label, Completion(text=label, kind=facet, value=value)))
        titles: list[Completion] = []
        toks = self._tokens(ws, stemmed=False)
        if len(toks) == len(ws):
            clauses = self._scope(within) + [(Occur.Must, TQ.term_query(self.schema, "kind", "page"))]
            clauses += [(Occur.Must, TQ.term_query(self.schema, fields.RAW_TITLE, w)) for w in toks[:-1]]
            clauses.append((Occur.Must, TQ.regex_query(self.schema, fields.RAW_TITLE, toks[-1] + ".*")))
            found = searcher.search(
                TQ.boolean_query(clauses),
                limit * 3,
                count=False,
                order_by_field="date",
                order=tantivy.Order.Desc,
            )
            stored = (json.loads(searcher.doc(address).get_first("stored")) for _, address in found.hits)
            titles = unique_titles(((s["title"], s["url"]) for s in stored), limit)
        return merge_completions(labels, titles, limit)

    # Similar practices

    def similar(self, page_id: int, *, limit: int = 6, within: tuple[str, ...] = ()) -> list[Hit]:
        """Other live public practices most like this page's own entry (never it, nor its documents' parts)."""
        searcher = self._searcher()
        own = searcher.search(TQ.term_query(self.schema, "key", f"page:{int(page_id)}"), 1).hits
        if not own or limit <= 0:
            return []
        s = json.loads(searcher.doc(own[0][1]).get_first("stored"))
        like = TQ.more_like_this_document_fields_query(
            self.schema,
            {
                "title": [normalize(s["title"])],
                "summary": [normalize(s["summary"])],
                "tags": [normalize(" ; ".join(s["tags"]))],
                "body": [normalize(s["body"])],
            },
            # A word only this page has finds nothing else; one most pages have says nothing.
            min_doc_frequency=2,
            max_doc_frequency=max(50, searcher.num_docs // 3),
            min_term_frequency=1,
            max_query_terms=30,
            min_word_length=3,
        )
        clauses = self._scope(within) + [
            (Occur.Must, like),
            (Occur.Must, TQ.term_query(self.schema, "kind", "page")),
            (Occur.Must, TQ.term_query(self.schema, fields.facet_field("type"), "practice")),
            (Occur.MustNot, TQ.term_query(self.schema, "page_id", int(page_id))),
        ]
        found = searcher.search(TQ.boolean_query(clauses), limit)
        return self._hits(searcher, Query(with_highlights=False), found.hits, scored=True)
