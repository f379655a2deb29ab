"""Where the index lives: files, the pointer, locks, connections, rebuild aside and catch-up."""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from pathlib import Path

from search.engines.base import (
    EngineBroken,
    EngineUnavailable,
    Entry,
    IndexMismatch,
)
from search.engines.fts5.bitsets import Bitsets, Cache, loaded
from search.engines.fts5.schema import (
    ENTRY_COLUMNS,
    SCHEMA,
    ZDICT_SAMPLE,
    current_schema,
    dictionary,
    dictionary_id,
    entry_of,
    packer,
    problem_of,
)
from search.query import FACETS

BUSY_TIMEOUT_S = 10.0
# Each optimized after a rebuild. FTS5's flush size (hashsize) stays its 1 MiB: a table built in one
# flush is one segment 'optimize' leaves at level 0, where the first live writes merge it whole
# (0.1 to 0.4 s once at 100,000 entries with 64 MiB, measured).
FTS_TABLES = ("fts", "near_fts", "title_fts")
_POINTER = "CURRENT"
# FTS5 merges its segments as writes add them (automerge, and crisismerge segments of one level at
# most): the writes after a rebuild with its defaults; the rebuild itself leaves the merging to its
# final 'optimize', which merges everything once (2 to 3 s less per 100,000 entries, measured).
LIVE_MERGING = {"automerge": 4, "crisismerge": 16}
BUILD_MERGING = {"automerge": 0, "crisismerge": 1000}

_FILE = re.compile(r"^index-(\d+)\.sqlite3$")


def _classified(exc: BaseException) -> EngineUnavailable:
    """A busy index is unavailable for a moment; any other database or file error means damage."""
    if isinstance(exc, EngineUnavailable):
        return exc
    message = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
        return EngineUnavailable(f"The search index is busy ({exc}).")
    return EngineBroken(f"The search index is damaged or missing ({exc}).")


def _merging(conn: sqlite3.Connection, settings: dict[str, int], tables=FTS_TABLES) -> None:
    for table in tables:
        for name, value in settings.items():
            conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES (?, ?)", (name, value))


def _check_pages(conn: sqlite3.Connection, expected: set[int]) -> None:
    got = {pid for (pid,) in conn.execute("SELECT DISTINCT page_id FROM entries")}
    if got != set(expected):
        missing, extra = set(expected) - got, got - set(expected)
        raise IndexMismatch(
            f"The new index holds {len(got)} pages, expected {len(expected)} "
            f"({len(missing)} missing, {len(extra)} unexpected); the live index was kept."
        )


def _compact(conn: sqlite3.Connection) -> None:
    """Give back the pages a new index file no longer uses (the segments FTS5's optimize merged, 7 MiB at
    100,000 entries) and fill the indexes' pages written out of order: VACUUM rewrites the file in
    about 1% of a rebuild's time. It writes a copy of the file in the temporary directory first: where
    there is no room for it the index is kept as built, unless the failure damaged it."""
    try:
        conn.execute("VACUUM")
    except sqlite3.OperationalError:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise


class Store:
    """The index's files and connections, mixed into ``Fts5Engine``; a rebuild fills its new file and
    catches it up through ``Writer._insert`` and ``Writer._delete_row``."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._caches: dict[str, Cache] = {}
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
        # SQLite's default of 1,000 pages meant 4 MiB of WAL between checkpoints with 4 KiB pages: the
        # same bytes with 16 KiB pages.
        conn.execute("PRAGMA wal_autocheckpoint = 250")
        return conn

    def _create(self, path: Path) -> sqlite3.Connection:
        conn = self._open(path)
        conn.executescript(SCHEMA)
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
                problem = problem_of(local.conn)
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
            self._local.bitsets = Bitsets(conn, fresh=False)
            yield conn
            self._local.bitsets.save()
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            self._local.bitsets = None

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
            conn.executescript(SCHEMA)
        try:
            n = self._build(conn, entries, expected_page_ids)
            with self._lock():
                name = self._swap_in(conn, name, start_name, start_generation)
                self._remove_old(keep=name)
        except BaseException:
            conn.close()
            if not (self.directory / _POINTER).exists() or self._current_name() != name:
                path.unlink(missing_ok=True)
            raise
        return n

    def _build(
        self, conn: sqlite3.Connection, entries: Iterable[Entry], expected_page_ids: set[int] | None
    ) -> int:
        """Fill a new index file in one unjournaled transaction, checked and optimized."""
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        entries = iter(entries)
        head = list(islice(entries, ZDICT_SAMPLE.stop))
        zdict = dictionary(head[ZDICT_SAMPLE], FACETS)
        conn.execute("INSERT INTO zdict (id, bytes) VALUES (?, ?)", (dictionary_id(zdict), zdict))
        self._local.bitsets = Bitsets(conn, fresh=True)
        _merging(conn, BUILD_MERGING)
        n = self._insert(conn, chain(head, entries))
        self._local.bitsets.save()
        self._local.bitsets = None
        _merging(conn, LIVE_MERGING)
        conn.execute("COMMIT")
        if expected_page_ids is not None:
            _check_pages(conn, expected_page_ids)
        for table in FTS_TABLES:
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
        _compact(conn)
        return n

    def _swap_in(
        self, conn: sqlite3.Connection, name: str, start_name: str | None, start_generation: int
    ) -> str:
        """Catch the new index up with the live one and point to it (under the lock); its final name."""
        path = self.directory / name
        pointer = self.directory / _POINTER
        live_name = pointer.read_text().strip() if pointer.exists() else None
        try:
            live = self._open(self.directory / live_name) if live_name else None
        except sqlite3.DatabaseError:
            live = None  # damaged beyond opening: this rebuild supersedes it
        try:
            if live is not None and not current_schema(live):
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
        return name

    def _live_generation(self) -> tuple[str | None, int]:
        pointer = self.directory / _POINTER
        if not pointer.exists():
            return None, 0
        if not current_schema(live := self._open(self.directory / self._current_name())):
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
        self._local.bitsets = Bitsets(new, fresh=False)
        self._local.generation = 0
        unpacking = packer(live)
        try:
            for key in keys:
                row = live.execute(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE key = ?", (key,)).fetchone()
                if row:
                    self._insert(new, [entry_of(row, unpacking)])
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

    def _cache(self, conn: sqlite3.Connection) -> Cache:
        generation = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        name = self._local.name
        cache = self._caches.get(name)
        if cache is not None and cache.generation == generation:
            return cache
        with self._cache_lock:
            cache = self._caches.get(name)
            if cache is not None and cache.generation == generation:
                return cache
            cache = loaded(conn, generation)
            self._caches = {name: cache}
            return cache
