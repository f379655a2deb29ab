"""Did you mean, and autocomplete."""

from __future__ import annotations

import sqlite3

from search.engines.base import (
    Completion,
)
from search.engines.common import (
    merge_completions,
    spelling,
    starts_words,
    unique_titles,
)
from search.engines.fts5 import bitsets
from search.engines.fts5.bitsets import expired_bits, within_bits
from search.engines.fts5.ranking import quote
from search.engines.fts5.schema import TOP_PATH
from search.facets import SUGGESTED
from search.query import Query
from search.text import normalize, normalized_words, words


class Suggestions:
    """Did you mean and autocomplete, mixed into ``Fts5Engine`` (reads through ``Store``)."""

    def _spelling(self, conn: sqlite3.Connection, query: Query) -> str | None:
        def known(word: str) -> bool:
            return (
                conn.execute("SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (quote([word]),)).fetchone()
                is not None
            )

        def vocabulary(word: str) -> dict[str, int]:
            # Candidates share the first or second letter and are at most two letters longer or shorter.
            return dict(
                conn.execute(
                    "SELECT word, df FROM vocab WHERE substr(word, 1, 1) IN (?, ?)"
                    " AND length(word) BETWEEN ? AND ?",
                    (word[0], word[1], len(word) - 2, len(word) + 2),
                )
            )

        return spelling(query, known, vocabulary)

    def autocomplete(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
        ws = words(normalize(prefix or ""))[:8]
        if not ws or limit <= 0:
            return []
        with self._read() as conn:
            cache = self._cache(conn)
            scope = within_bits(conn, cache, within)
            expired = expired_bits(conn)
            if expired:
                scope = (cache.all_bits if scope is None else scope) & ~expired
            labels: list[tuple[int, str, Completion]] = []
            for facet in SUGGESTED:
                for value, label in cache.labels.get(facet, {}).items():
                    if not starts_words(normalized_words(label), ws):
                        continue
                    bits = cache.facet_bits[facet][value]
                    n = (bits & scope).bit_count() if scope is not None else bits.bit_count()
                    if n:
                        labels.append((n, label, Completion(text=label, kind=facet, value=value)))
            expr = " ".join(quote([w]) for w in ws[:-1]) + " " + quote([ws[-1]], prefix=True)
            sql = (
                "SELECT e.title, e.url FROM title_fts t JOIN entries e ON e.rowid = t.rowid"
                " WHERE title_fts MATCH ? AND (e.expires IS NULL OR e.expires > ?)"
            )
            args: list = [expr.strip(), bitsets.now()]
            if within:
                sql += " AND (" + " OR ".join("(e.path >= ? AND e.path < ?)" for _ in within) + ")"
                args += [x for p in within for x in (p, p + TOP_PATH)]
            sql += " ORDER BY t.rowid DESC LIMIT ?"
            titles = unique_titles(conn.execute(sql, (*args, limit * 3)), limit)
        return merge_completions(labels, titles, limit)
