"""The tantivy engine: writes through ``store``, queries built in ``queries`` (ranking tiers there).

Facets are terms aggregations: one for the facets no filter is set on, one per active facet over the
other filters (disjunctive counts).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from pathlib import Path

import tantivy
from tantivy import Occur
from tantivy import Query as TQ

from search.engines.base import Completion, DocumentPart, Engine, Entry, FacetCount, Hit, Results
from search.engines.common import (
    highlighted,
    merge_completions,
    query_matcher,
    spelling,
    starts_words,
    unique_titles,
)
from search.engines.tantivy import queries
from search.engines.tantivy import schema as fields
from search.engines.tantivy.queries import Queries
from search.engines.tantivy.store import Store, page_ids
from search.facets import FACET_CAP, SUGGESTED, ordered
from search.query import FACETS, Query
from search.text import normalize, normalized_words, words

# Values read per facet, most frequent first: enough for the FACET_CAP shown, ties at the cut ordered
# by label; a chosen value past them is counted on its own.
FACET_VALUES = 4 * FACET_CAP


class TantivyEngine(Queries, Engine):
    name = "tantivy"

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.store = Store(self.directory)
        self.schema = self.store.schema
        self._stemmer = fields.analyzer(stemmed=True)
        self._words = fields.analyzer(stemmed=False)
        self._labels_lock = threading.Lock()
        self._labels: dict = {}

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
        matcher = query_matcher(query, self.stem, stem_prefixes=True) if query.with_highlights else None
        hits = []
        for score, address in found:
            s = json.loads(searcher.doc(address).get_first("stored"))
            title_html, snippet_html = highlighted(s["title"], s["summary"], s["body"], matcher)
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
        now = queries.now()
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
                if n and starts_words(normalized_words(label), ws):
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
