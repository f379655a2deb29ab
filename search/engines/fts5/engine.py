"""The embedded engine: SQLite FTS5 in its own database file, next to the site."""

from __future__ import annotations

import heapq
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from functools import partial

from search.engines.base import (
    SIMILAR_FIELDS,
    SIMILAR_TERMS,
    DocumentPart,
    Engine,
    FacetCount,
    Hit,
    Results,
)
from search.engines.common import (
    highlighted,
    query_matcher,
)
from search.engines.fts5.bitsets import Cache, expired_bits, within_bits
from search.engines.fts5.ranking import expressions, page_rows, prefix_expr, quote
from search.engines.fts5.schema import packer, stem
from search.engines.fts5.spelling import Suggestions
from search.engines.fts5.store import Store
from search.engines.fts5.writing import Writer
from search.facets import ordered
from search.query import FACETS, Query
from search.text import STOP_WORDS, normalize, words

SIMILAR_COLUMNS = "{" + " ".join(SIMILAR_FIELDS) + "}"
SIMILAR_POSTINGS = 64


class Fts5Engine(Store, Writer, Suggestions, Engine):
    """Files and connections in ``store``, writes in ``writing``, ranking in ``ranking``, did you mean
    and autocomplete in ``spelling``; searching, facets, hits and similar practices here."""

    name = "fts5"

    # Reading

    def count(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM entries").fetchone()[0]

    def page_ids(self) -> set[int]:
        with self._read() as conn:
            return {r[0] for r in conn.execute("SELECT DISTINCT page_id FROM entries")}

    def search(self, query: Query) -> Results:
        with self._read() as conn:
            positive, negative, lost = expressions(query, lambda p: prefix_expr(conn, p))
            cache = self._cache(conn)
            if lost and positive is None:
                return self._empty(query, cache)
            if positive:
                # FTS5 subtracts the exclusions itself: fewer rows to pack than two sets.
                expr = f"({positive}) NOT ({negative})" if negative else positive
                match = cache.matched(conn, expr)
            else:
                match = cache.all_bits
            if negative and not positive:
                match &= ~cache.matched(conn, negative)
            within = within_bits(conn, cache, query.within)
            if within is not None:
                match &= within
            match &= ~expired_bits(conn)
            if query.pages_only:
                match &= ~cache.part_bits
            selected = {
                f: self._or_values(cache, f, vs) for f, vs in query.filters.items() if f in FACETS and vs
            }
            final = match
            for bits in selected.values():
                final &= bits
            total = final.bit_count()
            facets = self._kept_facets(cache, query, match, selected) if query.with_facets else {}
            hits = self._hits(conn, query, page_rows(conn, cache, query, positive, final, total))
            correction = None
            if positive:
                spell = partial(self._spelling, conn, query)
                correction = cache.kept.get(("spelling", query.text, query.terms), spell, lambda _: 256)
        return Results(total=total, hits=hits, facets=facets, correction=correction)

    def _empty(self, query: Query, cache: Cache) -> Results:
        facets = self._facets(cache, query, 0, {}) if query.with_facets else {}
        return Results(total=0, hits=[], facets=facets)

    @staticmethod
    def _or_values(cache: Cache, facet: str, values: Iterable[str]) -> int:
        bits = 0
        for v in values:
            bits |= cache.facet_bits.get(facet, {}).get(v, 0)
        return bits

    def _kept_facets(self, cache: Cache, query: Query, match: int, selected: dict[str, int]) -> dict:
        """``_facets``, kept with the generation's cache for the same entries and filters (expiry
        changes ``match``, so an expired entry is never counted from a kept result)."""
        filters = tuple((f, tuple(vs)) for f, vs in query.filters.items() if f in FACETS)
        compute = partial(self._facets, cache, query, match, selected)
        size = (match.bit_length() + 7) // 8 + 8192
        kept = cache.kept.get(("facets", match, filters), compute, lambda _: size)
        # Copies: a caller may change what it is given, never what the next search is given.
        return {f: [replace(c) for c in counts] for f, counts in kept.items()}

    def _facets(self, cache: Cache, query: Query, match: int, selected: dict[str, int]) -> dict:
        out: dict[str, list[FacetCount]] = {}
        for facet in FACETS:
            base = match
            for other, bits in selected.items():
                if other != facet:
                    base &= bits
            chosen = set(query.filters.get(facet, ()))
            labels = cache.labels.get(facet, {})
            counts = []
            if base:
                for value, bits in cache.facet_bits.get(facet, {}).items():
                    n = (base & bits).bit_count()
                    if n or value in chosen:
                        counts.append(FacetCount(value, n, value in chosen, labels.get(value, value)))
            seen = {c.value for c in counts}
            counts += [FacetCount(v, 0, True, labels.get(v, v)) for v in chosen if v not in seen]
            out[facet] = ordered(counts, chosen)
        return out

    def _hits(self, conn: sqlite3.Connection, query: Query, rows: list) -> list[Hit]:
        if not rows:
            return []
        matcher = query_matcher(query, stem) if query.with_highlights else None
        sql = (
            "SELECT rowid, key, page_id, title, url, stored, document FROM entries "
            "WHERE rowid IN (SELECT value FROM json_each(?))"
        )
        by_id = {r[0]: r for r in conn.execute(sql, (json.dumps([r[0] for r in rows]),))}
        unpack = packer(conn).unpack
        hits = []
        for rowid, score in rows:
            _, key, page_id, title, url, stored, document = by_id[rowid]
            kept = unpack(stored)
            title_html, snippet_html = highlighted(title, kept.summary, kept.body, matcher)
            hits.append(
                Hit(
                    key=key,
                    page_id=page_id,
                    type=kept.type,
                    title=title,
                    url=url,
                    title_html=title_html,
                    snippet_html=snippet_html,
                    score=-float(score or 0.0),
                    display=kept.display,
                    document=DocumentPart(**json.loads(document)) if document else None,
                )
            )
        return hits

    # More like this

    def similar(self, page_id: int, *, limit: int = 6, within: tuple[str, ...] = ()) -> list[Hit]:
        """Entries scored by the summed weight of the page's telling words they hold.

        Each word's postings are read newest first and cut at SIMILAR_POSTINGS, so the cost stays
        flat as the index grows: a rare word (the heaviest) is read whole, a common one in part.
        """
        if limit <= 0:
            return []
        with self._read() as conn:
            row = conn.execute(
                "SELECT rowid, title, stored FROM entries WHERE key = ?", (f"page:{int(page_id)}",)
            ).fetchone()
            if row is None:
                return []
            own, title, stored = row
            kept = packer(conn).unpack(stored)
            cache = self._cache(conn)
            allowed = cache.facet_bits.get("type", {}).get("practice", 0) & ~expired_bits(conn)
            scope = within_bits(conn, cache, within)
            if scope is not None:
                allowed &= scope
            allowed &= ~(1 << own)
            weights = self._telling_words(conn, cache, f"{title} {kept.summary} {' '.join(kept.tags)}")
            scores: Counter[int] = Counter()
            sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT ?"
            for word, weight in weights:
                for (rowid,) in conn.execute(sql, (f"{SIMILAR_COLUMNS} : {quote([word])}", SIMILAR_POSTINGS)):
                    scores[rowid] += weight
            # Bytes, so each candidate's test is one index, not a shift of the whole big int.
            mask = allowed.to_bytes((allowed.bit_length() + 7) // 8 or 1, "little")
            size = len(mask)
            shown = [(v, r) for r, v in scores.items() if r >> 3 < size and mask[r >> 3] >> (r & 7) & 1]
            # Enough to fill the block after dropping document parts; ties go to the newer entry.
            ranked = [(r, v) for v, r in heapq.nlargest(limit * 8, shown)]
            rows: list[tuple[int, float]] = []
            check = (
                "SELECT rowid FROM entries WHERE rowid IN (SELECT value FROM json_each(?))"
                " AND document IS NULL AND page_id != ?"
            )
            for start in range(0, len(ranked), limit * 4):
                chunk = ranked[start : start + limit * 4]
                ok = {r for (r,) in conn.execute(check, (json.dumps([r for r, _ in chunk]), int(page_id)))}
                rows += [(r, -score) for r, score in chunk if r in ok]
                if len(rows) >= limit:
                    break
            return self._hits(conn, Query(with_highlights=False), rows[:limit])

    @staticmethod
    def _telling_words(conn: sqlite3.Connection, cache: Cache, text: str) -> list[tuple[str, float]]:
        """The words of ``text`` that say most about it, with their weight: frequent in it, rare in
        the index (tf-idf).

        A word no other entry has cannot find anything and is left out.
        """
        counts = Counter(w for w in words(normalize(text)) if len(w) > 2 and not w.isdigit())
        if not counts:
            return []
        total = max(cache.all_bits.bit_count(), 1)
        df = dict(
            conn.execute(
                "SELECT word, df FROM vocab WHERE word IN (SELECT value FROM json_each(?))",
                (json.dumps(list(counts)),),
            )
        )
        scored = [
            (tf * math.log(1 + total / df[w]), w)
            for w, tf in counts.items()
            if df.get(w, 0) >= 2 and w not in STOP_WORDS
        ]
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [(w, score) for score, w in scored[:SIMILAR_TERMS]]
