"""Writes: entries in, entries out, with the bitsets, the vocabulary and the journal kept."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from search.engines.base import (
    Entry,
)
from search.engines.common import TEXT_FIELDS
from search.engines.fts5.schema import NEAR_FIELDS, date_key, folded, packer, pairs_of, title_sort
from search.query import FACETS
from search.text import words


class Writer:
    """Writes, mixed into ``Fts5Engine``: each runs in ``Store._write``, whose bitsets and generation it keeps."""

    def index(self, entries: Iterable[Entry]) -> int:
        with self._write() as conn:
            return self._insert(conn, entries)

    def remove_pages(self, page_ids: Iterable[int]) -> int:
        with self._write() as conn:
            return self._remove(conn, page_ids)

    def replace_pages(self, page_ids: Iterable[int], entries: Iterable[Entry]) -> int:
        """Swap these pages' entries for new ones in one transaction: no search sees them missing."""
        with self._write() as conn:
            self._remove(conn, page_ids)
            return self._insert(conn, entries)

    def _remove(self, conn: sqlite3.Connection, page_ids: Iterable[int]) -> int:
        removed = 0
        for pid in sorted({int(p) for p in page_ids}):
            rows = conn.execute("SELECT rowid FROM entries WHERE page_id = ?", (pid,)).fetchall()
            for (rowid,) in rows:
                self._delete_row(conn, rowid)
            removed += len(rows)
        return removed

    def _insert(self, conn: sqlite3.Connection, entries: Iterable[Entry]) -> int:
        vocab: Counter[str] = Counter()
        pack = packer(conn).pack
        n = 0
        for batch in _batches(entries):
            # A rebuild's entries should be unique by key too, but the last one wins rather than failing.
            keys = json.dumps([e.key for e in batch])
            old = conn.execute(
                "SELECT rowid FROM entries WHERE key IN (SELECT value FROM json_each(?))", (keys,)
            )
            for (rowid,) in old.fetchall():
                self._delete_row(conn, rowid)
            self._journal(conn, [e.key for e in batch])
            # Rowids as SQLite would give them, so the whole batch goes in with one statement per table.
            first = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM entries").fetchone()[0]
            rows, texts = [], []
            for rowid, e in enumerate(batch, first):
                pairs = pairs_of(e, FACETS)
                norm = folded(e.title, e.summary, e.tags, e.names, e.body)
                rows.append(_entry_row(rowid, e, pack(e, pairs)))
                texts.append((rowid, norm, e.document is None))
                self._local.bitsets.add(rowid, pairs)
                vocab.update(set(words(" ".join(norm))))
            conn.executemany(_INSERT_ENTRY, rows)
            self._index_texts(conn, texts)
            n += len(batch)
        self._add_vocab(conn, vocab)
        return n

    @staticmethod
    def _add_vocab(conn: sqlite3.Connection, vocab: Counter[str], sign: int = 1) -> None:
        conn.executemany(
            "INSERT INTO vocab (word, df) VALUES (?, ?)"
            " ON CONFLICT (word) DO UPDATE SET df = df + excluded.df",
            [(w, sign * c) for w, c in vocab.items()],
        )

    def _journal(self, conn: sqlite3.Connection, keys: list[str]) -> None:
        if not self._local.bitsets.fresh:
            conn.executemany(
                "INSERT INTO journal (generation, key) VALUES (?, ?)",
                [(self._local.generation, k) for k in keys],
            )

    @staticmethod
    def _index_texts(conn: sqlite3.Connection, texts: list[tuple[int, tuple[str, ...], bool]]) -> None:
        """Add rows' folded text to the fts tables (title_fts only holds pages: ``page`` true)."""
        conn.executemany(_INSERT_TEXT["fts"], [(rowid, *norm) for rowid, norm, _page in texts])
        conn.executemany(
            _INSERT_TEXT["near_fts"], [(rowid, *norm[: len(NEAR_FIELDS)]) for rowid, norm, _page in texts]
        )
        conn.executemany(_INSERT_TEXT["title_fts"], [(rowid, norm[0]) for rowid, norm, page in texts if page])

    @staticmethod
    def _index_text(conn: sqlite3.Connection, rowid: int, norm: tuple[str, ...], page: bool, delete=False):
        """Add a row's folded text to the fts tables, or take it out (contentless tables are told the
        text the row was indexed with, which ``folded`` gives again from the entry)."""
        command = ("'delete', " if delete else "") + "?"
        head = "{}, rowid" if delete else "rowid"
        conn.execute(
            f"INSERT INTO fts ({head.format('fts')}, {', '.join(TEXT_FIELDS)}) VALUES ({command}, ?, ?, ?, ?, ?)",
            (rowid, *norm),
        )
        conn.execute(
            f"INSERT INTO near_fts ({head.format('near_fts')}, {', '.join(NEAR_FIELDS)}) VALUES ({command}, ?, ?, ?)",
            (rowid, *norm[: len(NEAR_FIELDS)]),
        )
        if page:
            conn.execute(
                f"INSERT INTO title_fts ({head.format('title_fts')}, title) VALUES ({command}, ?)",
                (rowid, norm[0]),
            )

    def _delete_row(self, conn: sqlite3.Connection, rowid: int) -> None:
        row = conn.execute(
            "SELECT title, stored, key, document IS NULL FROM entries WHERE rowid = ?", (rowid,)
        ).fetchone()
        if row:
            title, stored, key, page = row
            kept = packer(conn).unpack(stored)
            self._journal(conn, [key])
            self._local.bitsets.remove(rowid, kept.pairs)
            norm = folded(title, kept.summary, kept.tags, kept.names, kept.body)
            self._add_vocab(conn, Counter(set(words(" ".join(norm)))), sign=-1)
            self._index_text(conn, rowid, norm, bool(page), delete=True)
        conn.execute("DELETE FROM vocab WHERE df <= 0")
        conn.execute("DELETE FROM entries WHERE rowid = ?", (rowid,))


# Entries are written this many at a time (a repeated key starts a new batch, so the last one wins).
BATCH = 256

_INSERT_ENTRY = (
    "INSERT INTO entries (rowid, key, page_id, title, url, path, date, expires, document, stored, title_sort)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_TEXT = {
    table: f"INSERT INTO {table} (rowid, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})"
    for table, columns in (("fts", TEXT_FIELDS), ("near_fts", NEAR_FIELDS), ("title_fts", ("title",)))
}


def _batches(entries: Iterable[Entry]) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    keys: set[str] = set()
    for e in entries:
        if e.key in keys or len(batch) >= BATCH:
            yield batch
            batch, keys = [], set()
        batch.append(e)
        keys.add(e.key)
    if batch:
        yield batch


def _entry_row(rowid: int, e: Entry, stored: bytes) -> tuple:
    return (
        rowid,
        e.key,
        e.page_id,
        e.title,
        e.url,
        e.path,
        date_key(e.date),
        date_key(e.expires),
        json.dumps(asdict(e.document)) if e.document else None,
        stored,
        title_sort(e.title),
    )
