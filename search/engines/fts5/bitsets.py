"""Sets of entries as Python ints over rowids: per facet value, kept by every write, cached per generation."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat

from search.engines.fts5.schema import TOP_PATH

# The bitset row holding every entry.
ALL = ("", "")
# What the latest searches computed (match sets, ranking tiers, pages, facet counts) is kept with the
# generation's Cache, so any write, which starts a new generation, drops it: at most this many
# results, of at most this many bytes together.
KEPT_COUNT = 1024
KEPT_BYTES = 32 * 2**20


def now() -> float:
    return time.time()


def id_bits(conn: sqlite3.Connection, sql: str, args: tuple = ()) -> int:
    """A bitset of the rowids ``sql`` selects.

    SQLite hands the ids over as one JSON array and Python sets a binary digit per id in C, read as
    one int at the end: grouping them into words in SQL sorts every row first, which costs more.
    """
    ids = json.loads(conn.execute(f"SELECT json_group_array(rowid) FROM ({sql})", args).fetchone()[0])
    if not ids:
        return 0
    digits = bytearray(b"0") * (max(ids) + 1)
    deque(map(digits.__setitem__, ids, repeat(ord("1"))), maxlen=0)
    digits.reverse()
    return int(digits, 2)


def bit_ids(bits: int) -> Iterator[int]:
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for i, byte in enumerate(raw):
        while byte:
            low = byte & -byte
            yield i * 8 + low.bit_length() - 1
            byte ^= low


class Kept:
    """Values computed by key, the least recently used dropped past KEPT_COUNT or KEPT_BYTES."""

    def __init__(self):
        self.items: OrderedDict = OrderedDict()
        self.used = 0
        self.lock = threading.Lock()

    def get(self, key, compute: Callable[[], object], size: Callable[[object], int]):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            if key not in self.items:
                self.items[key] = value
                self.used += size(value)
            while self.items and (len(self.items) > KEPT_COUNT or self.used > KEPT_BYTES):
                _, dropped = self.items.popitem(last=False)
                self.used -= size(dropped)
        return value

    def __contains__(self, key) -> bool:
        with self.lock:
            return key in self.items


@dataclass
class Cache:
    """What one index generation looks like to this process, built once and shared by threads."""

    generation: int
    all_bits: int
    facet_bits: dict[str, dict[str, int]]
    labels: dict[str, dict[str, str]]
    within: dict[tuple[str, ...], int]
    # Document parts ("doc:" keys), left out when a query browses.
    part_bits: int = 0
    # What the latest searches computed, by kind: ("match", expression) -> entries matched,
    # ("tier", table, expression) -> a ranking tier's head, ("page", ...) -> a page's rows,
    # ("facets", entries, filters) -> facet counts, ("spelling", terms) -> correction.
    kept: Kept = field(default_factory=Kept)

    def matched(self, conn: sqlite3.Connection, expr: str) -> int:
        """The entries the fts expression matches, read once per generation while it stays popular."""
        sql = "SELECT rowid FROM fts WHERE fts MATCH ?"
        return self.kept.get(("match", expr), lambda: id_bits(conn, sql, (expr,)), _size)


def _size(bits: int) -> int:
    return (bits.bit_length() + 7) // 8 + 64


class Bitsets:
    """The bitsets one write transaction changes, saved back at its end."""

    def __init__(self, conn: sqlite3.Connection, fresh: bool):
        self.conn = conn
        self.fresh = fresh
        self.bits: dict[tuple[str, str], int] = {}
        self.ids: dict[tuple[str, str], list[int]] = {}
        self.labels: dict[tuple[str, str], str] = {}

    def _get(self, key: tuple[str, str]) -> int:
        if key not in self.bits:
            row = self.conn.execute(
                "SELECT label, bits FROM bitset WHERE facet = ? AND value = ?", key
            ).fetchone()
            if row:
                self.labels.setdefault(key, row[0])
            self.bits[key] = int.from_bytes(row[1], "little") if row else 0
        return self.bits[key]

    def add(self, rowid: int, pairs: list[tuple[str, str, str]]) -> None:
        for facet, value, label in [(*ALL, ""), *pairs]:
            key = (facet, value)
            self.labels[key] = label
            if self.fresh:
                # Setting bits one by one in a big int copies it each time: collect, then pack once.
                self.ids.setdefault(key, []).append(rowid)
            else:
                self.bits[key] = self._get(key) | 1 << rowid

    def remove(self, rowid: int, pairs: list[tuple[str, str, str]]) -> None:
        for facet, value, _label in [(*ALL, ""), *pairs]:
            key = (facet, value)
            if self.fresh:
                self.ids[key].remove(rowid)
            else:
                self.bits[key] = self._get(key) & ~(1 << rowid)

    def save(self) -> None:
        for key, ids in self.ids.items():
            if not ids:
                self.bits[key] = 0
                continue
            buf = bytearray((max(ids) >> 3) + 1)
            for i in ids:
                buf[i >> 3] |= 1 << (i & 7)
            self.bits[key] = int.from_bytes(buf, "little")
        for key, bits in self.bits.items():
            if bits:
                self.conn.execute(
                    "INSERT OR REPLACE INTO bitset (facet, value, label, bits) VALUES (?, ?, ?, ?)",
                    (
                        *key,
                        self.labels.get(key, key[1]),
                        bits.to_bytes((bits.bit_length() + 7) // 8, "little"),
                    ),
                )
            else:
                self.conn.execute("DELETE FROM bitset WHERE facet = ? AND value = ?", key)


def loaded(conn: sqlite3.Connection, generation: int) -> Cache:
    facet_bits: dict[str, dict[str, int]] = {}
    labels: dict[str, dict[str, str]] = {}
    all_bits = 0
    for facet, value, label, blob in conn.execute("SELECT facet, value, label, bits FROM bitset"):
        if (facet, value) == ALL:
            all_bits = int.from_bytes(blob, "little")
            continue
        facet_bits.setdefault(facet, {})[value] = int.from_bytes(blob, "little")
        labels.setdefault(facet, {})[value] = label
    # A range of the unique key's index: "doc:..." keys sort between "doc:" and "doc;".
    part_bits = id_bits(conn, "SELECT rowid FROM entries WHERE key >= 'doc:' AND key < 'doc;'")
    return Cache(generation, all_bits, facet_bits, labels, within={}, part_bits=part_bits)


def expired_bits(conn: sqlite3.Connection) -> int:
    # Expiry is read at every search (a partial index keeps it cheap), so an expired page is
    # gone at once, before publish_scheduled unpublishes it.
    sql = "SELECT rowid FROM entries WHERE expires IS NOT NULL AND expires <= ?"
    return id_bits(conn, sql, (now(),))


def within_bits(conn: sqlite3.Connection, cache: Cache, within: tuple[str, ...]) -> int | None:
    if not within:
        return None
    key = tuple(sorted(set(within)))
    if key not in cache.within:
        cond = " OR ".join("(path >= ? AND path < ?)" for _ in key)
        args = [x for p in key for x in (p, p + TOP_PATH)]
        cache.within[key] = id_bits(conn, f"SELECT rowid FROM entries WHERE {cond}", tuple(args))
    return cache.within[key]
