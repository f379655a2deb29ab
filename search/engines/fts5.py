"""The embedded engine: SQLite FTS5 in its own database file, next to the site.

The index is a derived artefact: ``rebuild`` writes a new versioned file aside and swaps a pointer
file, so searches never see a half-built index, and replays what was written meanwhile. Facet
counts come from per-value bitsets over rowids, kept in the index by every write and loaded as
Python ints once per process and generation (a counter every write bumps).
"""

from __future__ import annotations

import fcntl
import heapq
import html
import json
import math
import os
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import snowballstemmer

from search.engines.base import (
    SIMILAR_FIELDS,
    SIMILAR_TERMS,
    Completion,
    DocumentPart,
    Engine,
    EngineBroken,
    EngineUnavailable,
    Entry,
    FacetCount,
    Hit,
    IndexMismatch,
    Results,
)
from search.engines.common import (
    FIELD_WEIGHTS,
    SNIPPET_SCAN_CHARS,
    SNIPPET_WORDS,
    TEXT_FIELDS,
    apply_correction,
    merge_completions,
    nfc,
    plain_snippet,
    unique_titles,
)
from search.facets import SUGGESTED, ordered
from search.query import FACETS, Query
from search.text import STOP_WORDS, normalize, normalized_words, tokens, words

# bm25 weights of the fts table's columns, in its order.
WEIGHTS = tuple(FIELD_WEIGHTS.values())
# Up to this many matches SQL orders just them; past it, the ordered set is walked until a page fills.
FEW_CANDIDATES = 5000
SIMILAR_COLUMNS = "{" + " ".join(SIMILAR_FIELDS) + "}"
SIMILAR_POSTINGS = 64
TIERS = ("{title}", "{title summary tags}", None)
BUSY_TIMEOUT_S = 10.0
_POINTER = "CURRENT"
# The bitset row holding every entry.
_ALL = ("", "")
_FILE = re.compile(r"^index-(\d+)\.sqlite3$")
_TOP_PATH = chr(0x10FFFF)
# At most this many distinct stems stand for one prefix (the commonest words first).
PREFIX_EXPANSIONS = 64

# Raised whenever the layout below changes: an index of another layout is rebuilt, never read.
SCHEMA_VERSION = 3
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('generation', 0);
INSERT INTO meta VALUES ('schema', {SCHEMA_VERSION});
CREATE TABLE entries (
    rowid INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    page_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    title_sort TEXT NOT NULL,
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    names TEXT NOT NULL,
    date REAL,
    expires REAL,
    display TEXT NOT NULL,
    document TEXT,
    labels TEXT NOT NULL,
    facets TEXT NOT NULL
);
CREATE INDEX entries_page ON entries (page_id);
CREATE INDEX entries_path ON entries (path);
CREATE INDEX entries_date ON entries (date IS NULL, date DESC);
CREATE INDEX entries_title ON entries (title_sort);
CREATE INDEX entries_expires ON entries (expires) WHERE expires IS NOT NULL;
-- Entries of each facet value as a little-endian bitset over rowids, kept by every write.
CREATE TABLE bitset (facet TEXT NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL, bits BLOB NOT NULL,
    PRIMARY KEY (facet, value)) WITHOUT ROWID;
-- Keys each write touched, so a rebuild running meanwhile can bring its new index up to date.
CREATE TABLE journal (generation INTEGER NOT NULL, key TEXT NOT NULL);
CREATE INDEX journal_generation ON journal (generation);
CREATE TABLE vocab (word TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX vocab_letter_length ON vocab (substr(word, 1, 1), length(word));
CREATE VIRTUAL TABLE fts USING fts5 ({", ".join(TEXT_FIELDS)},
    tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3');
CREATE VIRTUAL TABLE title_fts USING fts5 (title, tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3');
"""

# A snowball stemmer keeps its state between calls: one per thread (gunicorn's threaded workers).
_stemmers = threading.local()


def _now() -> float:
    return time.time()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    stemmer = getattr(_stemmers, "porter", None)
    if stemmer is None:
        stemmer = _stemmers.porter = snowballstemmer.stemmer("porter")
    return stemmer.stemWord(word)


def _current_schema(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None and row[0] == SCHEMA_VERSION


def _problem(conn: sqlite3.Connection) -> str:
    """What is wrong with an index file at open (layout and a quick integrity check), or ""."""
    try:
        if not _current_schema(conn):
            return "The search index was built by another version or is damaged; run manage.py rebuild_search_index."
        result = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        return f"The search index is damaged ({exc})."
    return "" if result and result[0] == "ok" else f"The search index is damaged ({result and result[0]})."


def _classified(exc: BaseException) -> EngineUnavailable:
    """A busy index is unavailable for a moment; any other database or file error means damage."""
    if isinstance(exc, EngineUnavailable):
        return exc
    message = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
        return EngineUnavailable(f"The search index is busy ({exc}).")
    return EngineBroken(f"The search index is damaged or missing ({exc}).")


def _date_key(date: datetime | None) -> float | None:
    if date is None:
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date.timestamp()


def _quote(ws: list[str], prefix: bool = False) -> str:
    # Words hold letters and digits only, so a quoted string can never become FTS5 syntax.
    return '"' + " ".join(ws) + '"' + ("*" if prefix else "")


def _bits(rows: Iterable[tuple[int, int]]) -> int:
    """A bitset from (word index, 32-bit word) pairs as SQLite groups them."""
    words32 = {}
    top = -1
    for w, v in rows:
        words32[w] = v
        top = max(top, w)
    if top < 0:
        return 0
    buf = bytearray(4 * (top + 1))
    for w, v in words32.items():
        buf[4 * w : 4 * w + 4] = v.to_bytes(4, "little")
    return int.from_bytes(buf, "little")


def _bit_ids(bits: int) -> Iterator[int]:
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for i, byte in enumerate(raw):
        while byte:
            low = byte & -byte
            yield i * 8 + low.bit_length() - 1
            byte ^= low


_GROUPED = "SELECT rowid >> 5, sum(1 << (rowid & 31)) FROM ({}) GROUP BY 1"


@dataclass
class _Cache:
    """What one index generation looks like to this process, built once and shared by threads."""

    generation: int
    all_bits: int
    facet_bits: dict[str, dict[str, int]]
    labels: dict[str, dict[str, str]]
    within: dict[tuple[str, ...], int]
    # Document parts ("doc:" keys), left out when a query browses.
    part_bits: int = 0


@dataclass
class _Matcher:
    """Whether a word of original text is one the query matched: same stem, or a prefix term's start."""

    stems: frozenset[str]
    prefixes: tuple[str, ...]
    seen: dict[str, bool] = field(default_factory=dict)

    def __call__(self, word: str) -> bool:
        if word not in self.seen:
            self.seen[word] = any(
                stem(w) in self.stems or w in self.stems or w.startswith(self.prefixes)
                for w in normalized_words(word)
            )
        return self.seen[word]


_ENTRY_COLUMNS = "key, page_id, type, title, url, path, summary, body, tags, names, date, expires, display, document, labels, facets"


def _entry(row: tuple) -> Entry:
    """An entry as stored, back as the Entry it was made from."""
    (
        key,
        page_id,
        type_,
        title,
        url,
        path,
        summary,
        body,
        tags,
        names,
        date,
        expires,
        display,
        document,
        labels,
        pairs,
    ) = row
    facets: dict[str, list[str]] = {}
    for facet, value, _label in json.loads(pairs):
        facets.setdefault(facet, []).append(value)
    return Entry(
        key=key,
        page_id=page_id,
        type=type_,
        title=title,
        url=url,
        path=path,
        summary=summary,
        body=body,
        tags=tuple(json.loads(tags)),
        names=names,
        facets={f: tuple(vs) for f, vs in facets.items()},
        date=datetime.fromtimestamp(date, UTC) if date is not None else None,
        expires=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
        display=json.loads(display),
        labels=json.loads(labels),
        document=DocumentPart(**json.loads(document)) if document else None,
    )


class _Bitsets:
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
        for facet, value, label in [(*_ALL, ""), *pairs]:
            key = (facet, value)
            self.labels[key] = label
            if self.fresh:
                # Setting bits one by one in a big int copies it each time: collect, then pack once.
                self.ids.setdefault(key, []).append(rowid)
            else:
                self.bits[key] = self._get(key) | 1 << rowid

    def remove(self, rowid: int, pairs: list[tuple[str, str, str]]) -> None:
        for facet, value, _label in [(*_ALL, ""), *pairs]:
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


class Fts5Engine(Engine):
    name = "fts5"

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._caches: dict[str, _Cache] = {}
        # Set once an index was opened: its files vanishing later is damage, not a fresh install.
        self._had_index = (self.directory / _POINTER).exists()

    # Files and connections

    @contextmanager
    def _lock(self):
        with open(self.directory / "lock", "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _current_name(self) -> str:
        pointer = self.directory / _POINTER
        try:
            return pointer.read_text().strip()
        except FileNotFoundError:
            if self._had_index:
                # Deleted while serving: an empty index made now would answer "nothing" silently.
                raise EngineBroken("The search index's files are missing.") from None
            with self._lock():
                if not pointer.exists():
                    name = self._next_name()
                    self._create(self.directory / name).close()
                    self._point_to(name)
                return pointer.read_text().strip()

    def _next_name(self) -> str:
        numbers = [int(m.group(1)) for p in self.directory.iterdir() if (m := _FILE.match(p.name))]
        return f"index-{max(numbers, default=0) + 1}.sqlite3"

    def _point_to(self, name: str) -> None:
        tmp = self.directory / f".{_POINTER}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(name)
        os.replace(tmp, self.directory / _POINTER)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA mmap_size = 1073741824")
        return conn

    def _create(self, path: Path) -> sqlite3.Connection:
        conn = self._open(path)
        conn.executescript(_SCHEMA)
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.directory / _POINTER)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection to the live index, reopened when a rebuild swapped it."""
        local = self._local
        pointer = self.directory / _POINTER
        stamp = self._stamp()
        if stamp is None and self._had_index:
            raise EngineBroken("The search index's files are missing.")
        if stamp is None or getattr(local, "stamp", None) != stamp:
            name = self._current_name()
            if getattr(local, "name", None) != name:
                if getattr(local, "conn", None) is not None:
                    local.conn.close()
                local.conn = self._open(self.directory / name)
                local.name = name
                problem = _problem(local.conn)
                if problem:
                    local.conn.close()
                    local.conn = local.name = None
                    raise EngineBroken(problem)
                local.conn.execute("PRAGMA synchronous = NORMAL")
                self._had_index = True
            st = os.stat(pointer)
            local.stamp = (st.st_ino, st.st_mtime_ns)
        return local.conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._conn()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise _classified(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        while True:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            # A rebuild swaps the index while holding the old one's write lock: never write to a retired file.
            if self._stamp() == self._local.stamp:
                break
            conn.execute("ROLLBACK")
        try:
            generation = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
            self._local.generation = generation + 1
            self._local.bitsets = _Bitsets(conn, fresh=False)
            yield conn
            self._local.bitsets.save()
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            self._local.bitsets = None

    # Writing

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

    def rebuild(self, entries: Iterable[Entry], *, expected_page_ids: set[int] | None = None) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            start_name, start_generation = self._live_generation()
        except (EngineUnavailable, sqlite3.DatabaseError):
            start_name, start_generation = None, 0  # a damaged index: nothing to catch up from
        with self._lock():
            name = self._next_name()
            path = self.directory / name
            # Claim the name before the long build so a concurrent rebuild picks another.
            conn = self._open(path)
            conn.executescript(_SCHEMA)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("BEGIN")
            self._local.bitsets = _Bitsets(conn, fresh=True)
            n = self._insert(conn, entries)
            self._local.bitsets.save()
            self._local.bitsets = None
            conn.execute("COMMIT")
            if expected_page_ids is not None:
                _check_pages(conn, expected_page_ids)
            conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            conn.execute("INSERT INTO title_fts(title_fts) VALUES ('optimize')")
            with self._lock():
                pointer = self.directory / _POINTER
                live_name = pointer.read_text().strip() if pointer.exists() else None
                try:
                    live = self._open(self.directory / live_name) if live_name else None
                except sqlite3.DatabaseError:
                    live = None  # damaged beyond opening: this rebuild supersedes it
                try:
                    if live is not None and not _current_schema(live):
                        # An index of an older layout cannot be caught up from: this rebuild supersedes it.
                        live.close()
                        live = None
                    if live is not None:
                        # Holding the live index's write lock until the pointer has moved loses no write.
                        live.execute("BEGIN IMMEDIATE")
                        since = start_generation if live_name == start_name else 0
                        self._catch_up(conn, live, since)
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.close()
                    live_n = int(_FILE.match(live_name).group(1)) if live_name else 0
                    if live_n > int(_FILE.match(name).group(1)):
                        # An empty index was made meanwhile for a first reader: ours must still be the newest.
                        newer = self._next_name()
                        os.replace(path, self.directory / newer)
                        name = newer
                    self._point_to(name)
                finally:
                    if live is not None:
                        live.execute("ROLLBACK")
                        live.close()
                self._remove_old(keep=name)
        except BaseException:
            conn.close()
            if not (self.directory / _POINTER).exists() or self._current_name() != name:
                path.unlink(missing_ok=True)
            raise
        return n

    def _live_generation(self) -> tuple[str | None, int]:
        pointer = self.directory / _POINTER
        if not pointer.exists():
            return None, 0
        if not _current_schema(live := self._open(self.directory / self._current_name())):
            live.close()
            return None, 0
        live.close()
        with self._read() as conn:
            return self._local.name, conn.execute(
                "SELECT value FROM meta WHERE key = 'generation'"
            ).fetchone()[0]

    def _catch_up(self, new: sqlite3.Connection, live: sqlite3.Connection, since: int) -> None:
        """Apply to the new index what was written to the live one after the rebuild began."""
        keys = [k for (k,) in live.execute("SELECT DISTINCT key FROM journal WHERE generation > ?", (since,))]
        if not keys:
            return
        new.execute("BEGIN")
        self._local.bitsets = _Bitsets(new, fresh=False)
        self._local.generation = 0
        try:
            for key in keys:
                row = live.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE key = ?", (key,)).fetchone()
                if row:
                    self._insert(new, [_entry(row)])
                else:
                    old = new.execute("SELECT rowid FROM entries WHERE key = ?", (key,)).fetchone()
                    if old:
                        self._delete_row(new, old[0])
            self._local.bitsets.save()
            new.execute("COMMIT")
        finally:
            self._local.bitsets = None

    def _remove_old(self, keep: str) -> None:
        """Delete index files older than the previous one (readers may still hold that one open)."""
        keep_n = int(_FILE.match(keep).group(1))
        for p in self.directory.iterdir():
            m = _FILE.match(p.name.removesuffix("-wal").removesuffix("-shm"))
            if m and int(m.group(1)) < keep_n - 1:
                p.unlink(missing_ok=True)

    def _insert(self, conn: sqlite3.Connection, entries: Iterable[Entry]) -> int:
        vocab: Counter[str] = Counter()
        n = 0
        for e in entries:
            # A rebuild's entries should be unique by key too, but the last one wins rather than failing.
            old = conn.execute("SELECT rowid FROM entries WHERE key = ?", (e.key,)).fetchone()
            if old:
                self._delete_row(conn, old[0])
            self._journal(conn, e.key)
            pairs = list(
                dict.fromkeys(
                    (f, str(v), e.labels.get(f, {}).get(str(v), str(v)))
                    for f, vs in e.facets.items()
                    if f in FACETS
                    for v in vs
                )
            )
            norm = [normalize(e.title), normalize(e.summary), normalize(" ; ".join(e.tags))]
            norm += [normalize(e.names), normalize(e.body)]
            cur = conn.execute(
                "INSERT INTO entries (key, page_id, type, title, title_sort, url, path, summary, body, tags,"
                " names, date, expires, display, document, labels, facets)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    e.key,
                    e.page_id,
                    e.type,
                    e.title,
                    norm[0],
                    e.url,
                    e.path,
                    e.summary,
                    e.body,
                    json.dumps(list(e.tags)),
                    e.names,
                    _date_key(e.date),
                    _date_key(e.expires),
                    json.dumps(e.display, default=str),
                    json.dumps(asdict(e.document)) if e.document else None,
                    json.dumps(e.labels),
                    json.dumps(pairs),
                ),
            )
            rowid = cur.lastrowid
            conn.execute(
                "INSERT INTO fts (rowid, title, summary, tags, names, body) VALUES (?,?,?,?,?,?)",
                (rowid, *norm),
            )
            if e.document is None:
                conn.execute("INSERT INTO title_fts (rowid, title) VALUES (?, ?)", (rowid, norm[0]))
            self._local.bitsets.add(rowid, pairs)
            vocab.update(set(words(" ".join(norm))))
            n += 1
        self._add_vocab(conn, vocab)
        return n

    @staticmethod
    def _add_vocab(conn: sqlite3.Connection, vocab: Counter[str], sign: int = 1) -> None:
        conn.executemany(
            "INSERT INTO vocab (word, df) VALUES (?, ?)"
            " ON CONFLICT (word) DO UPDATE SET df = df + excluded.df",
            [(w, sign * c) for w, c in vocab.items()],
        )

    def _journal(self, conn: sqlite3.Connection, key: str) -> None:
        if not self._local.bitsets.fresh:
            conn.execute("INSERT INTO journal (generation, key) VALUES (?, ?)", (self._local.generation, key))

    def _delete_row(self, conn: sqlite3.Connection, rowid: int) -> None:
        row = conn.execute(
            "SELECT title, summary, tags, names, body, facets, key FROM entries WHERE rowid = ?", (rowid,)
        ).fetchone()
        if row:
            title, summary, tags, names, body, pairs, key = row
            self._journal(conn, key)
            self._local.bitsets.remove(rowid, json.loads(pairs))
            text = " ".join(normalize(t) for t in (title, summary, " ; ".join(json.loads(tags)), names, body))
            self._add_vocab(conn, Counter(set(words(text))), sign=-1)
        conn.execute("DELETE FROM vocab WHERE df <= 0")
        for sql in (
            "DELETE FROM fts WHERE rowid = ?",
            "DELETE FROM title_fts WHERE rowid = ?",
            "DELETE FROM entries WHERE rowid = ?",
        ):
            conn.execute(sql, (rowid,))

    # Reading

    def count(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM entries").fetchone()[0]

    def page_ids(self) -> set[int]:
        with self._read() as conn:
            return {r[0] for r in conn.execute("SELECT DISTINCT page_id FROM entries")}

    def _cache(self, conn: sqlite3.Connection) -> _Cache:
        generation = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        name = self._local.name
        cache = self._caches.get(name)
        if cache is not None and cache.generation == generation:
            return cache
        with self._cache_lock:
            cache = self._caches.get(name)
            if cache is not None and cache.generation == generation:
                return cache
            cache = self._loaded(conn, generation)
            self._caches = {name: cache}
            return cache

    @staticmethod
    def _loaded(conn: sqlite3.Connection, generation: int) -> _Cache:
        facet_bits: dict[str, dict[str, int]] = {}
        labels: dict[str, dict[str, str]] = {}
        all_bits = 0
        for facet, value, label, blob in conn.execute("SELECT facet, value, label, bits FROM bitset"):
            if (facet, value) == _ALL:
                all_bits = int.from_bytes(blob, "little")
                continue
            facet_bits.setdefault(facet, {})[value] = int.from_bytes(blob, "little")
            labels.setdefault(facet, {})[value] = label
        # A range of the unique key's index: "doc:..." keys sort between "doc:" and "doc;".
        parts = _GROUPED.format("SELECT rowid FROM entries WHERE key >= 'doc:' AND key < 'doc;'")
        part_bits = _bits(conn.execute(parts))
        return _Cache(generation, all_bits, facet_bits, labels, within={}, part_bits=part_bits)

    @staticmethod
    def _expired_bits(conn: sqlite3.Connection) -> int:
        # Expiry is read at every search (a partial index keeps it cheap), so an expired page is
        # gone at once, before publish_scheduled unpublishes it.
        sql = _GROUPED.format("SELECT rowid FROM entries WHERE expires IS NOT NULL AND expires <= ?")
        return _bits(conn.execute(sql, (_now(),)))

    def _within_bits(self, conn: sqlite3.Connection, cache: _Cache, within: tuple[str, ...]) -> int | None:
        if not within:
            return None
        key = tuple(sorted(set(within)))
        if key not in cache.within:
            cond = " OR ".join("(path >= ? AND path < ?)" for _ in key)
            args = [x for p in key for x in (p, p + _TOP_PATH)]
            sql = _GROUPED.format(f"SELECT rowid FROM entries WHERE {cond}")
            cache.within[key] = _bits(conn.execute(sql, args))
        return cache.within[key]

    @staticmethod
    def _match(
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
                expr = _quote(ws, prefix=t.prefix and len(ws) == 1)
            (neg if t.negated else pos).append(expr)
        joiner = " OR " if query.match_any else " AND "
        return (joiner.join(pos) or None), (" OR ".join(neg) or None), lost

    def search(self, query: Query) -> Results:
        with self._read() as conn:
            positive, negative, lost = self._match(query, lambda p: _prefix_expr(conn, p))
            cache = self._cache(conn)
            if lost and positive is None:
                return self._empty(query, cache)
            if positive:
                # FTS5 subtracts the exclusions itself: fewer rows to pack than two sets.
                expr = f"({positive}) NOT ({negative})" if negative else positive
                match = _bits(
                    conn.execute(_GROUPED.format("SELECT rowid FROM fts WHERE fts MATCH ?"), (expr,))
                )
            else:
                match = cache.all_bits
            if negative and not positive:
                excluded = _bits(
                    conn.execute(_GROUPED.format("SELECT rowid FROM fts WHERE fts MATCH ?"), (negative,))
                )
                match &= ~excluded
            within = self._within_bits(conn, cache, query.within)
            if within is not None:
                match &= within
            match &= ~self._expired_bits(conn)
            if query.pages_only:
                match &= ~cache.part_bits
            selected = {
                f: self._or_values(cache, f, vs) for f, vs in query.filters.items() if f in FACETS and vs
            }
            final = match
            for bits in selected.values():
                final &= bits
            total = final.bit_count()
            facets = self._facets(cache, query, match, selected) if query.with_facets else {}
            hits = self._page(conn, query, positive, final, total)
            correction = self._spelling(conn, query) if positive else None
        return Results(total=total, hits=hits, facets=facets, correction=correction)

    def _empty(self, query: Query, cache: _Cache) -> Results:
        facets = self._facets(cache, query, 0, {}) if query.with_facets else {}
        return Results(total=0, hits=[], facets=facets)

    @staticmethod
    def _or_values(cache: _Cache, facet: str, values: Iterable[str]) -> int:
        bits = 0
        for v in values:
            bits |= cache.facet_bits.get(facet, {}).get(v, 0)
        return bits

    def _facets(self, cache: _Cache, query: Query, match: int, selected: dict[str, int]) -> dict:
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

    def _page(self, conn: sqlite3.Connection, query: Query, positive: str | None, final: int, total: int):
        if not total or query.offset >= total:
            return []
        limit, offset = query.per_page, query.offset
        ids = json.dumps(list(_bit_ids(final))) if total <= FEW_CANDIDATES else None
        if positive and query.sort == "relevance":
            tiers = (None,) if query.match_any else TIERS
            rows = self._ranked(conn, positive, final, ids, limit + offset, tiers)[offset:]
        else:
            order = "title_sort, rowid" if query.sort == "title" else "date IS NULL, date DESC, rowid"
            if ids is not None:
                sql = (
                    f"SELECT rowid, 0 FROM entries WHERE rowid IN (SELECT value FROM json_each(?)) "
                    f"ORDER BY {order} LIMIT ? OFFSET ?"
                )
                rows = conn.execute(sql, (ids, limit, offset)).fetchall()
            else:
                rows = self._scan_ordered(conn, order, final, limit + offset)[offset:]
        return self._hits(conn, query, rows)

    @staticmethod
    def _ranked(conn, positive: str, final: int, ids: str | None, need: int, tiers=TIERS) -> list:
        """Rows by tier (all words in the title; in title, summary or tags; anywhere), bm25 within.

        Tiers keep a title match above a body match, and spare ranking a common word's whole match
        set: most pages fill from the first tier. Matching any word, bm25 alone ranks: it rewards
        entries that have more of the words.
        """
        weights = ", ".join(str(x) for x in WEIGHTS)
        sql = f"SELECT rowid, bm25(fts, {weights}) AS score FROM fts WHERE fts MATCH ?"
        if ids is not None:
            # Unary + keeps SQLite from handing the id list to FTS5, which would re-run the match per id.
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
        sql += " ORDER BY score, rowid"
        out: list[tuple[int, float]] = []
        taken: set[int] = set()
        for columns in tiers:
            expr = f"{columns} : ({positive})" if columns else positive
            for rowid, score in conn.execute(sql, (expr, ids) if ids is not None else (expr,)):
                if rowid in taken or not final >> rowid & 1:
                    continue
                taken.add(rowid)
                out.append((rowid, score))
                if len(out) >= need:
                    return out
        return out

    @staticmethod
    def _scan_ordered(conn, order: str, final: int, need: int) -> list:
        out = []
        index = "entries_title" if order.startswith("title") else "entries_date"
        for (rowid,) in conn.execute(f"SELECT rowid FROM entries INDEXED BY {index} ORDER BY {order}"):
            if final >> rowid & 1:
                out.append((rowid, 0.0))
                if len(out) >= need:
                    break
        return out

    def _hits(self, conn: sqlite3.Connection, query: Query, rows: list) -> list[Hit]:
        if not rows:
            return []
        matcher = self._matcher(query) if query.with_highlights else None
        sql = (
            "SELECT rowid, key, page_id, type, title, url, summary, body, display, document FROM entries "
            "WHERE rowid IN (SELECT value FROM json_each(?))"
        )
        by_id = {r[0]: r for r in conn.execute(sql, (json.dumps([r[0] for r in rows]),))}
        hits = []
        for rowid, score in rows:
            _, key, page_id, type_, title, url, summary, body, display, document = by_id[rowid]
            if matcher is not None:
                title_html = mark(title, matcher)
                snippet_html = snippet(summary, body, matcher)
            else:
                title_html = html.escape(title)
                snippet_html = snippet(summary, body, None)
            hits.append(
                Hit(
                    key=key,
                    page_id=page_id,
                    type=type_,
                    title=title,
                    url=url,
                    title_html=title_html,
                    snippet_html=snippet_html,
                    score=-float(score or 0.0),
                    display=json.loads(display),
                    document=DocumentPart(**json.loads(document)) if document else None,
                )
            )
        return hits

    @staticmethod
    def _matcher(query: Query) -> _Matcher:
        stems, prefixes = set(), []
        for t in query.positive_terms:
            ws = words(normalize(t.text))
            if t.prefix and len(ws) == 1:
                prefixes.append(ws[0])
            else:
                stems.update(stem(w) for w in ws)
        return _Matcher(frozenset(stems), tuple(prefixes))

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
                "SELECT rowid, title, summary, tags FROM entries WHERE key = ?", (f"page:{int(page_id)}",)
            ).fetchone()
            if row is None:
                return []
            own, title, summary, tags = row
            cache = self._cache(conn)
            allowed = cache.facet_bits.get("type", {}).get("practice", 0) & ~self._expired_bits(conn)
            scope = self._within_bits(conn, cache, within)
            if scope is not None:
                allowed &= scope
            allowed &= ~(1 << own)
            weights = self._telling_words(conn, cache, f"{title} {summary} {' '.join(json.loads(tags))}")
            scores: Counter[int] = Counter()
            sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT ?"
            for word, weight in weights:
                for (rowid,) in conn.execute(
                    sql, (f"{SIMILAR_COLUMNS} : {_quote([word])}", SIMILAR_POSTINGS)
                ):
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
    def _telling_words(conn: sqlite3.Connection, cache: _Cache, text: str) -> list[tuple[str, float]]:
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

    # Spelling and autocomplete

    def _spelling(self, conn: sqlite3.Connection, query: Query) -> str | None:
        def known(word: str) -> bool:
            return (
                conn.execute("SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (_quote([word]),)).fetchone()
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
            scope = self._within_bits(conn, cache, within)
            expired = self._expired_bits(conn)
            if expired:
                scope = (cache.all_bits if scope is None else scope) & ~expired
            labels: list[tuple[int, str, Completion]] = []
            for facet in SUGGESTED:
                for value, label in cache.labels.get(facet, {}).items():
                    if not _starts_words(normalized_words(label), ws):
                        continue
                    bits = cache.facet_bits[facet][value]
                    n = (bits & scope).bit_count() if scope is not None else bits.bit_count()
                    if n:
                        labels.append((n, label, Completion(text=label, kind=facet, value=value)))
            expr = " ".join(_quote([w]) for w in ws[:-1]) + " " + _quote([ws[-1]], prefix=True)
            sql = (
                "SELECT e.title, e.url FROM title_fts t JOIN entries e ON e.rowid = t.rowid"
                " WHERE title_fts MATCH ? AND (e.expires IS NULL OR e.expires > ?)"
            )
            args: list = [expr.strip(), _now()]
            if within:
                sql += " AND (" + " OR ".join("(e.path >= ? AND e.path < ?)" for _ in within) + ")"
                args += [x for p in within for x in (p, p + _TOP_PATH)]
            sql += " ORDER BY t.rowid DESC LIMIT ?"
            titles = unique_titles(conn.execute(sql, (*args, limit * 3)), limit)
        return merge_completions(labels, titles, limit)


def _prefix_expr(conn: sqlite3.Connection, prefix: str) -> str:
    """What ``prefix*`` matches: the indexed words that start with it, never its stem's.

    FTS5's porter tokenizer stems a prefix query too ("recy" -> "reci", which misses "recycling"), so
    a prefix that stemming changes is expanded through the vocabulary into the words it starts, one
    per stem (FTS5 stems each as it stemmed it when indexing), and matched as a word itself. A prefix stemming leaves alone is asked
    as itself, plus the words whose stem no longer starts with it ("hopp" -> "hopping" -> "hop").
    """
    stable = stem(prefix) == prefix
    # The typed letters as a word too, stemmed as any word: "recycle*" finds "recycling".
    parts = [_quote([prefix], prefix=True)] if stable else [_quote([prefix])]
    # Porter never changes the first two letters of a word: such a prefix covers every stem.
    if not (stable and len(prefix) <= 2):
        stems: set[str] = set()
        rows = conn.execute(
            "SELECT word FROM vocab WHERE word >= ? AND word < ? AND df > 0 ORDER BY df DESC, word",
            (prefix, prefix + _TOP_PATH),
        )
        for (word,) in rows:
            s = stem(word)
            if (stable and s.startswith(prefix)) or s in stems:
                continue
            stems.add(s)
            parts.append(_quote([word]))
            if len(stems) >= PREFIX_EXPANSIONS:
                break
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _check_pages(conn: sqlite3.Connection, expected: set[int]) -> None:
    got = {pid for (pid,) in conn.execute("SELECT DISTINCT page_id FROM entries")}
    if got != set(expected):
        missing, extra = set(expected) - got, got - set(expected)
        raise IndexMismatch(
            f"The new index holds {len(got)} pages, expected {len(expected)} "
            f"({len(missing)} missing, {len(extra)} unexpected); the live index was kept."
        )


def _starts_words(label_words: list[str], typed: list[str]) -> bool:
    """Every typed word starts some word of the label; the last one may be partial."""
    return all(
        any(lw == w or (i == len(typed) - 1 and lw.startswith(w)) for lw in label_words)
        for i, w in enumerate(typed)
    )


def edit_distance(a: str, b: str, cap: int = 2) -> int:
    """Damerau-Levenshtein (adjacent transpositions), giving up past ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2 = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[-1]


def spelling(
    query: Query, known: Callable[[str], bool], vocabulary: Callable[[str], dict[str, int]]
) -> str | None:
    """The query's words with each unknown one replaced by the closest known word (None: no change).

    ``known(word)``: the index matches the word; ``vocabulary(word)``: candidate words and their
    document counts. Phrases, prefixes, numbers and words under three letters are left alone.
    """
    fixes = []
    for t in query.positive_terms:
        if t.prefix or t.phrase:
            continue
        ws = words(normalize(t.text))
        if len(ws) != 1 or len(ws[0]) < 3 or ws[0].isdigit():
            continue
        word = ws[0]
        if known(word):
            continue
        best = closest(word, vocabulary(word))
        if best:
            fixes.append((t.text, best))
    return apply_correction(query.text, fixes)


def closest(word: str, vocab: dict[str, int], cap: int = 2) -> str | None:
    """The known word nearest to ``word`` (within ``cap`` edits), the commoner on a tie."""
    best, best_key = None, None
    for cand, df in vocab.items():
        if df <= 0 or abs(len(cand) - len(word)) > cap or cand[0] not in word[:2] or cand == word:
            continue
        d = edit_distance(word, cand, cap)
        if d <= cap:
            key = (d, -df, cand)
            if best_key is None or key < best_key:
                best, best_key = cand, key
    return best


def mark(text: str, matcher: _Matcher) -> str:
    """``text`` HTML-escaped, with <mark> around the words the query matched."""
    text = nfc(text)
    out, last = [], 0
    for m in tokens(text):
        if matcher(m.group()):
            out.append(html.escape(text[last : m.start()]))
            out.append(f"<mark>{html.escape(m.group())}</mark>")
            last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(summary: str, body: str, matcher: _Matcher | None) -> str:
    """The ~30-word passage of summary and body with the most matched words, highlighted; without a
    matcher (browsing, no words) the plain start of the summary or body."""
    if matcher is None:
        return plain_snippet(summary, body)
    text = nfc((summary + " " + body)[:SNIPPET_SCAN_CHARS])
    if not text.strip():
        return ""
    toks = tokens(text)
    hits = [i for i, t in enumerate(toks) if matcher(t.group())]
    best = 0
    if hits:
        # Slide a window over the matched positions; keep the one holding the most matches.
        j, top = 0, -1
        for i in range(len(hits)):
            while hits[i] - hits[j] >= SNIPPET_WORDS:
                j += 1
            if i - j + 1 > top:
                top, best = i - j + 1, hits[j]
        best = max(0, min(best - 3, len(toks) - SNIPPET_WORDS))
    window = toks[best : best + SNIPPET_WORDS]
    if not window:
        return ""
    start, end = window[0].start(), window[-1].end()
    if end < len(text) and text[end] in ".!?":
        end += 1
    passage = mark(text[start:end], matcher)
    return ("… " if best else "") + passage + (" …" if end < len(text.rstrip()) else "")
