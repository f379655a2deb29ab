"""The query as FTS5 expressions, and one page of matches ranked or ordered."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from functools import partial
from itertools import chain

from search.engines.common import (
    WEIGHTS,
)
from search.engines.fts5.bitsets import Cache, bit_ids
from search.engines.fts5.schema import NEAR_FIELDS, TITLE_ORDER, TOP_PATH, stem
from search.query import Query
from search.text import normalize, words

# Up to this many matches SQL orders just them; past it, the ordered set is walked until a page fills.
FEW_CANDIDATES = 5000

# The best rows of a ranked tier kept per expression: enough for the first pages of most filters.
TIER_HEAD = 256

# Each ranking tier as (table, column filter): all the words in the title, then in title, summary or
# tags, both read from the small near_fts table; then anywhere, from the whole fts table.
TIERS = (("near_fts", "{title}"), ("near_fts", None), ("fts", None))
ANYWHERE = (("fts", None),)
_WEIGHTS = {"fts": WEIGHTS, "near_fts": WEIGHTS[: len(NEAR_FIELDS)]}

# At most this many distinct stems stand for one prefix (the commonest words first).
PREFIX_EXPANSIONS = 64


def quote(ws: list[str], prefix: bool = False) -> str:
    # Words hold letters and digits only, so a quoted string can never become FTS5 syntax.
    return '"' + " ".join(ws) + '"' + ("*" if prefix else "")


def expressions(
    query: Query, expand: Callable[[str], str] | None = None
) -> tuple[str | None, str | None, bool]:
    """FTS5 expressions for the positive and the negated terms, and whether words were lost.

    ``expand`` turns a prefix into the expression matching the indexed words it starts; without it
    the prefix is left to FTS5.
    """
    pos, neg = [], []
    lost = False
    for t in query.terms:
        ws = words(normalize(t.text))
        if not ws:
            lost = lost or not t.negated
            continue
        if t.prefix and len(ws) == 1 and expand is not None:
            expr = expand(ws[0])
        else:
            expr = quote(ws, prefix=t.prefix and len(ws) == 1)
        (neg if t.negated else pos).append(expr)
    joiner = " OR " if query.match_any else " AND "
    return (joiner.join(pos) or None), (" OR ".join(neg) or None), lost


def page_rows(
    conn: sqlite3.Connection, cache: Cache, query: Query, positive: str | None, final: int, total: int
) -> list[tuple[int, float]]:
    """The (rowid, score) rows of the query's page among the ``final`` entries, kept per generation."""
    if not total or query.offset >= total:
        return []
    few = total <= FEW_CANDIDATES
    key = ("page", positive, query.sort, query.match_any, final, few, query.per_page, query.offset)
    compute = partial(_page_rows, conn, cache, query, positive, final, few)
    size = (final.bit_length() + 7) // 8 + 100 * query.per_page + 256
    return cache.kept.get(key, compute, lambda _: size)


def _page_rows(conn, cache: Cache, query: Query, positive: str | None, final: int, few: bool) -> list:
    limit, offset = query.per_page, query.offset
    ids = json.dumps(list(bit_ids(final))) if few else None
    if positive and query.sort == "relevance":
        tiers = ANYWHERE if query.match_any else TIERS
        rows = ranked(conn, cache, positive, final, ids, limit + offset, tiers)[offset:]
    else:
        order = f"{TITLE_ORDER}, rowid" if query.sort == "title" else "date IS NULL, date DESC, rowid"
        if ids is not None:
            sql = (
                f"SELECT rowid, 0 FROM entries WHERE rowid IN (SELECT value FROM json_each(?)) "
                f"ORDER BY {order} LIMIT ? OFFSET ?"
            )
            rows = conn.execute(sql, (ids, limit, offset)).fetchall()
        else:
            rows = scan_ordered(conn, order, final, limit + offset)[offset:]
    return rows


def ranked(conn, cache: Cache, positive: str, final: int, ids: str | None, need: int, tiers=TIERS) -> list:
    """Rows by tier (all words in the title; in title, summary or tags; anywhere), bm25 within.

    Tiers keep a title match above a body match, and spare ranking a common word's whole match
    set: most pages fill from the first tier. Matching any word, bm25 alone ranks: it rewards
    entries that have more of the words. The head of a tier ranked whole is kept with the
    generation's cache, so a popular query is scored once between writes.
    """
    out: list[tuple[int, float]] = []
    taken: set[int] = set()
    for table, columns in tiers:
        expr = f"{columns} : ({positive})" if columns else positive
        key = ("tier", table, expr)
        if ids is None or key in cache.kept:
            head, whole = cache.kept.get(key, partial(tier_head, conn, table, expr), _head_size)
            # Past the head, the rest of the tier comes from SQL, only if the page is not full.
            rows = iter(head) if whole else chain(head, tier_rows(conn, table, expr, ids))
        else:
            rows = tier_rows(conn, table, expr, ids)
        for rowid, score in rows:
            if rowid in taken or not final >> rowid & 1:
                continue
            taken.add(rowid)
            out.append((rowid, score))
            if len(out) >= need:
                return out
    return out


def tier_sql(table: str, few: bool) -> str:
    weights = ", ".join(str(x) for x in _WEIGHTS[table])
    sql = f"SELECT rowid, bm25({table}, {weights}) AS score FROM {table} WHERE {table} MATCH ?"
    if few:
        # Unary + keeps SQLite from handing the id list to FTS5, which would re-run the match per id.
        sql += " AND +rowid IN (SELECT value FROM json_each(?))"
    return sql + " ORDER BY score, rowid"


def tier_rows(
    conn: sqlite3.Connection, table: str, expr: str, ids: str | None
) -> Iterator[tuple[int, float]]:
    """The tier's rows best first (among ``ids`` if given), read when first asked for."""
    yield from conn.execute(tier_sql(table, few=ids is not None), (expr,) if ids is None else (expr, ids))


def tier_head(conn: sqlite3.Connection, table: str, expr: str) -> tuple[list, bool]:
    """The tier's best TIER_HEAD rows, and whether they are all of it."""
    rows = conn.execute(tier_sql(table, few=False) + " LIMIT ?", (expr, TIER_HEAD)).fetchall()
    return rows, len(rows) < TIER_HEAD


def _head_size(head: tuple[list, bool]) -> int:
    return 100 * len(head[0]) + 128


def scan_ordered(conn, order: str, final: int, need: int) -> list:
    out = []
    index = "entries_title" if order.startswith(TITLE_ORDER) else "entries_date"
    for (rowid,) in conn.execute(f"SELECT rowid FROM entries INDEXED BY {index} ORDER BY {order}"):
        if final >> rowid & 1:
            out.append((rowid, 0.0))
            if len(out) >= need:
                break
    return out


def prefix_expr(conn: sqlite3.Connection, prefix: str) -> str:
    """What ``prefix*`` matches: the indexed words that start with it, never its stem's.

    FTS5's porter tokenizer stems a prefix query too ("recy" -> "reci", which misses "recycling"), so
    a prefix that stemming changes is expanded through the vocabulary into the words it starts, one
    per stem (FTS5 stems each as it stemmed it when indexing), and matched as a word itself. A prefix stemming leaves alone is asked
    as itself, plus the words whose stem no longer starts with it ("hopp" -> "hopping" -> "hop").
    """
    stable = stem(prefix) == prefix
    # The typed letters as a word too, stemmed as any word: "recycle*" finds "recycling".
    parts = [quote([prefix], prefix=True)] if stable else [quote([prefix])]
    # Porter never changes the first two letters of a word: such a prefix covers every stem.
    if not (stable and len(prefix) <= 2):
        stems: set[str] = set()
        rows = conn.execute(
            "SELECT word FROM vocab WHERE word >= ? AND word < ? AND df > 0 ORDER BY df DESC, word",
            (prefix, prefix + TOP_PATH),
        )
        for (word,) in rows:
            s = stem(word)
            if (stable and s.startswith(prefix)) or s in stems:
                continue
            stems.add(s)
            parts.append(quote([word]))
            if len(stems) >= PREFIX_EXPANSIONS:
                break
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
