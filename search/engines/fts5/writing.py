"""Writes: entries in, entries out, with the bitsets, the vocabulary and the journal kept."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from functools import lru_cache, partial

from search.engines.base import (
    Entry,
)
from search.engines.common import TEXT_FIELDS
from search.engines.fts5.schema import NEAR_FIELDS, date_key, folded, packer, pairs_of, title_sort
from search.query import FACETS
from search.text import non_ascii_chars, words


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
        """Write entries in batches; the last of two with one key wins.

        In a rebuild (its own new index, fresh bitsets) SQLite's part of each batch runs on a thread
        of its own while Python folds and packs the next one, and SQLite counts most of the words.
        """
        fresh = self._local.bitsets.fresh
        written: dict[str, int] = {}  # a rebuild's keys so far, with their rowids
        pack = packer(conn).pack
        # Rowids as SQLite would give them, so each batch goes in with one statement per table.
        rowid = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM entries").fetchone()[0]
        n = 0
        with InOrder(conn, threaded=fresh) as sql:
            if fresh:
                sql.run(_count_words_start)
            for batch in _batches(entries):
                keys = [e.key for e in batch]
                old = [written[k] for k in keys if k in written] if fresh else _rowids_of(conn, keys)
                if old:
                    sql.wait()
                    for r in old:
                        self._delete_row(conn, r)
                self._journal(conn, keys)
                job = self._prepared(batch, rowid, pack, fresh)
                sql.run(job)
                written.update((e.key, r) for r, e in enumerate(batch, rowid))
                rowid += len(batch)
                n += len(batch)
            if fresh:
                sql.run(_count_words_save)
        return n

    def _prepared(self, batch: list[Entry], first: int, pack: Callable, fresh: bool) -> Callable:
        """The batch folded, packed and set in the bitsets: what is left is its SQL, returned."""
        rows, texts, counted = [], [], Counter()
        for rowid, e in enumerate(batch, first):
            pairs = pairs_of(e, FACETS)
            norm = folded(e.title, e.summary, e.tags, e.names, e.body)
            rows.append(_entry_row(rowid, e, pack(e, pairs)))
            self._local.bitsets.add(rowid, pairs)
            by_sql = _words_counted_by_sql(fresh, norm)
            if not by_sql:
                counted.update(set(words(" ".join(norm))))
            texts.append((rowid, norm, e.document is None, by_sql))
        return partial(_write_batch, rows=rows, texts=texts, counted=counted)

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
            if _words_counted_by_sql(self._local.bitsets.fresh, norm):
                conn.execute(_COUNT_WORDS_DELETE, (rowid, " ".join(norm)))
            else:
                self._add_vocab(conn, Counter(set(words(" ".join(norm)))), sign=-1)
            self._index_text(conn, rowid, norm, bool(page), delete=True)
        conn.execute("DELETE FROM vocab WHERE df <= 0")
        conn.execute("DELETE FROM entries WHERE rowid = ?", (rowid,))


# Entries are written this many at a time (a repeated key starts a new batch, so the last one wins).
BATCH = 256

_INSERT_ENTRY = (
    "INSERT INTO entries (rowid, key, page_id, title, url, path, date, expires, document, stored, title_sort)"
    " VALUES "
)
_ENTRY_VALUES = "(?,?,?,?,?,?,?,?,?,?,?)"
# Each reads the JSON array ``_index_texts`` makes: [rowid, page, by_sql, title, summary, tags, names, body]
# (``->>`` binds no tighter than ``||``: hence the brackets).
_TEXT_COLUMNS = {
    field: f"(value ->> {i})" for i, field in enumerate(("rowid", "page", "by_sql", *TEXT_FIELDS))
}
_INSERT_TEXTS = tuple(
    f"INSERT INTO {table} (rowid, {', '.join(columns)}) SELECT (value ->> 0),"
    f" {', '.join(_TEXT_COLUMNS[c] for c in columns)} FROM json_each(?){where}"
    for table, columns, where in (
        ("fts", TEXT_FIELDS, ""),
        ("near_fts", NEAR_FIELDS, ""),
        ("title_fts", ("title",), " WHERE value ->> 1"),
    )
)


def _rowids_of(conn: sqlite3.Connection, keys: list[str]) -> list[int]:
    rows = conn.execute(
        "SELECT rowid FROM entries WHERE key IN (SELECT value FROM json_each(?))", (json.dumps(keys),)
    )
    return [r for (r,) in rows]


def _write_batch(conn: sqlite3.Connection, rows: list[tuple], texts: list, counted: Counter[str]) -> None:
    # One statement of many rows, not one step per row: SQLite keeps Python's GIL free meanwhile.
    conn.execute(_INSERT_ENTRY + ", ".join([_ENTRY_VALUES] * len(rows)), [v for row in rows for v in row])
    _index_texts(conn, texts)
    Writer._add_vocab(conn, counted)


def _index_texts(conn: sqlite3.Connection, texts: list[tuple[int, tuple[str, ...], bool, bool]]) -> None:
    """Add rows' folded text to the fts tables (title_fts only holds pages: ``page`` true), and to a
    rebuild's word count (``by_sql`` true).

    The rows go to SQLite as one JSON array, read by one statement per table: SQLite works through
    the whole batch without taking Python's GIL back once per row.
    """
    batch = json.dumps([[rowid, int(page), int(by_sql), *norm] for rowid, norm, page, by_sql in texts])
    for sql in _INSERT_TEXTS if not any(t[3] for t in texts) else (*_INSERT_TEXTS, _COUNT_WORDS_INSERT):
        conn.execute(sql, (batch,))


# A rebuild's vocabulary (each word's number of entries) is counted by SQLite in C, at a third of
# Python's CPU and off the thread that prepares the next batch, in a temporary table dropped once its
# counts are in ``vocab``. Only for text whose every character SQLite's unicode61 tokenizer and
# ``search.text.words`` (which later writes count with) split alike (``split_alike``): Python
# counts the words of the rest.
_COUNT_WORDS_DELETE = "INSERT INTO temp.build_words (build_words, rowid, words) VALUES ('delete', ?, ?)"
_COUNT_WORDS_INSERT = (
    "INSERT INTO temp.build_words (rowid, words) SELECT (value ->> 0), "
    + " || ' ' || ".join(_TEXT_COLUMNS[f] for f in TEXT_FIELDS)
    + " FROM json_each(?) WHERE value ->> 2"
)


def _words_counted_by_sql(fresh: bool, norm: tuple[str, ...]) -> bool:
    return fresh and all(split_alike(c) for t in norm if not t.isascii() for c in non_ascii_chars(t))


@lru_cache(maxsize=4096)
def split_alike(char: str) -> bool:
    """Whether SQLite's unicode61 tokenizer and ``search.text.words`` both take ``char`` for part of a
    word, or both for a separator: true for a character of the same category in Unicode 3.2 as today,
    neither unassigned nor private (SQLite 3.40's tables are older than Python's: characters given or
    changed a category since, such as emoji, are letters to it). ASCII always splits alike."""
    category = unicodedata.category(char)
    return category not in ("Cn", "Co") and unicodedata.ucd_3_2_0.category(char) == category


def _count_words_start(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE VIRTUAL TABLE temp.build_words USING fts5 (words, content = '', detail = none,"
        " tokenize = 'unicode61 remove_diacritics 0')"
    )
    conn.execute("CREATE VIRTUAL TABLE temp.build_words_vocab USING fts5vocab (temp, build_words, 'row')")


def _count_words_save(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO vocab (word, df) SELECT term, doc FROM temp.build_words_vocab WHERE doc > 0"
        " ON CONFLICT (word) DO UPDATE SET df = df + excluded.df"
    )
    conn.execute("DROP TABLE temp.build_words_vocab")
    conn.execute("DROP TABLE temp.build_words")


class InOrder:
    """Calls on a connection run in order on a thread of their own (``threaded``), or at once.

    sqlite3 lets go of the GIL while SQLite works, so a rebuild's inserts, FTS5's tokenizing and
    merging run on one core while Python prepares the next batch on the other. The caller touches
    the connection only after ``wait``; an error on the thread is raised in the caller.
    """

    def __init__(self, conn: sqlite3.Connection, threaded: bool):
        self.conn = conn
        self.error: BaseException | None = None
        # Two batches at most wait their turn: the preparing thread never runs far ahead.
        self.jobs: queue.Queue | None = queue.Queue(maxsize=2) if threaded else None
        self.thread = threading.Thread(target=self._work, daemon=True) if threaded else None

    def __enter__(self) -> InOrder:
        if self.thread is not None:
            self.thread.start()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()
        if kind is None:
            self._raise()

    def run(self, job: Callable[[sqlite3.Connection], object]) -> None:
        if self.jobs is None:
            job(self.conn)
            return
        self._raise()
        self.jobs.put(job)

    def wait(self) -> None:
        if self.jobs is not None:
            self.jobs.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    job(self.conn)
            except BaseException as exc:  # handed to the caller's thread
                self.error = exc
            finally:
                self.jobs.task_done()


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
