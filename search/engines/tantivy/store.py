"""The tantivy index on disk, shared by every process of the site.

    CURRENT          name of the live index directory (replaced atomically by a rebuild's swap)
    index-N/         a tantivy index (its commits are atomic: a crash leaves the last one readable)
    spool/           writes not yet applied, one file each, applied oldest first
    journal/         writes applied while a rebuild runs, replayed into the new index before the swap
    REBUILDING       present while a rebuild runs
    write.lock       one writer at a time, across processes (tantivy allows one per index)

Every write is first made durable in ``spool/``, then whoever holds ``write.lock`` applies the
whole spool in order and commits. A process that cannot get the lock within ``LOCK_WAIT_S`` leaves
its write in the spool for the next writer (or the next search) to apply: it is never lost.
Readers check ``CURRENT`` and the live index's ``meta.json`` on every search and reload when either
changed, so a commit from any process is seen by the next search everywhere.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tantivy

from search.engines.base import EngineUnavailable, Entry
from search.engines.tantivy import schema as fields
from search.queue import entry_from_json, entry_to_json

logger = logging.getLogger("search")

POINTER = "CURRENT"
SCHEMA_FILE = "kb-schema"
REBUILDING = "REBUILDING"
LOCK_WAIT_S = 5.0
WRITER_HEAP = 64_000_000
REBUILD_HEAP = 256_000_000
_DIR = re.compile(r"^index-(\d+)$")


class LockTimeout(Exception):
    """The write lock stayed taken longer than the bounded wait."""


@dataclass
class Live:
    """One process's view of the live index, reused until a swap or a commit changes it."""

    name: str
    index: tantivy.Index
    pointer_stamp: tuple[int, int]
    meta_stamp: tuple[int, int]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Store:
    def __init__(self, directory: str | os.PathLike):
        self.root = Path(directory)
        self.spool = self.root / "spool"
        self.journal = self.root / "journal"
        for d in (self.root, self.spool, self.journal):
            d.mkdir(parents=True, exist_ok=True)
        self.schema = fields.build_schema()
        self._live: Live | None = None
        self._live_lock = threading.Lock()
        self._spool_stamp: tuple[int, int] | None = None
        # flock belongs to the open file: threads of one process take turns here first.
        self._thread_lock = threading.Lock()
        self._owner: int | None = None

    # Locks

    @contextmanager
    def _flock(self, name: str, timeout: float | None) -> Iterator[None]:
        with open(self.root / name, "a+") as f:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | (fcntl.LOCK_NB if timeout is not None else 0))
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise LockTimeout(name) from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextmanager
    def write_lock(self, timeout: float | None = -1) -> Iterator[None]:
        """Bounded by ``LOCK_WAIT_S`` unless told otherwise (None: wait as long as it takes)."""
        if self._owner == threading.get_ident():
            yield  # already ours: a second flock on another descriptor would wait for itself
            return
        timeout = LOCK_WAIT_S if timeout == -1 else timeout
        if not self._thread_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise LockTimeout("write.lock")
        try:
            with self._flock("write.lock", timeout):
                self._owner = threading.get_ident()
                try:
                    yield
                finally:
                    self._owner = None
        finally:
            self._thread_lock.release()

    # Index directories

    def _dir_numbers(self) -> list[int]:
        return [int(m.group(1)) for p in self.root.iterdir() if (m := _DIR.match(p.name))]

    def _new_dir(self) -> Path:
        """A fresh index directory, claimed at once so a concurrent rebuild picks another."""
        while True:
            path = self.root / f"index-{max(self._dir_numbers(), default=0) + 1}"
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue

    def _create(self, path: Path) -> tantivy.Index:
        index = fields.register(tantivy.Index(self.schema, path=str(path), reuse=False))
        (path / SCHEMA_FILE).write_text(str(fields.SCHEMA_VERSION))
        return index

    def _open(self, path: Path) -> tantivy.Index:
        try:
            version = int((path / SCHEMA_FILE).read_text())
        except (FileNotFoundError, ValueError):
            version = None
        if version != fields.SCHEMA_VERSION:
            raise EngineUnavailable(
                "The search index was built by another version; run manage.py rebuild_search_index."
            )
        index = fields.register(tantivy.Index.open(str(path)))
        index.config_reader(reload_policy="manual")
        return index

    def _point_to(self, name: str) -> None:
        _write_atomic(self.root / POINTER, name.encode())

    def current_name(self) -> str:
        pointer = self.root / POINTER
        try:
            return pointer.read_text().strip()
        except FileNotFoundError:
            # A first reader or writer makes an empty index, so nobody ever waits for a rebuild.
            with self.write_lock(timeout=None):
                if not pointer.exists():
                    path = self._new_dir()
                    writer = self._create(path).writer(WRITER_HEAP, 1)
                    writer.commit()
                    writer.wait_merging_threads()
                    self._point_to(path.name)
                return pointer.read_text().strip()

    def live(self) -> tantivy.Index:
        """The live index, reloaded when another process committed or a rebuild swapped it."""
        pointer_stamp = _stamp(self.root / POINTER)
        live = self._live
        if live is None or pointer_stamp is None or live.pointer_stamp != pointer_stamp:
            with self._live_lock:
                name = self.current_name()
                pointer_stamp = _stamp(self.root / POINTER)
                if self._live is None or self._live.name != name:
                    path = self.root / name
                    self._live = Live(name, self._open(path), pointer_stamp, _stamp(path / "meta.json"))
                else:
                    self._live.pointer_stamp = pointer_stamp
                live = self._live
        meta = _stamp(self.root / live.name / "meta.json")
        if meta != live.meta_stamp:
            live.index.reload()
            live.meta_stamp = meta
        self._apply_stray_spool()
        return live.index

    # Writing

    def submit(self, page_ids: list[int], entries: list[Entry]) -> bool:
        """Make the write durable, then apply the spool; False when it was left for the next writer."""
        op = {"pages": sorted({int(p) for p in page_ids}), "entries": [entry_to_json(e) for e in entries]}
        name = f"{time.time_ns():020d}-{os.getpid():08d}-{uuid.uuid4().hex[:8]}.json"
        _write_atomic(self.spool / name, json.dumps(op, default=str).encode())
        try:
            with self.write_lock():
                self._drain()
        except LockTimeout:
            logger.warning("search index busy: write %s kept in the spool for the next writer", name)
            return False
        return True

    def pending(self) -> int:
        return sum(1 for p in self.spool.iterdir() if p.suffix == ".json")

    def _apply_stray_spool(self) -> None:
        """Writes left by a process that could not get the lock (or died) are applied by the next reader."""
        stamp = _stamp(self.spool)
        if stamp == self._spool_stamp:
            return
        self._spool_stamp = stamp
        if not self.pending():
            return
        try:
            with self.write_lock(timeout=0):
                self._drain()
        except LockTimeout:
            self._spool_stamp = None  # someone is writing; they drain it, or the next search tries again

    def _ops(self, directory: Path) -> list[tuple[Path, dict]]:
        ops = []
        for path in sorted(p for p in directory.iterdir() if p.suffix == ".json"):
            try:
                ops.append((path, json.loads(path.read_bytes())))
            except (OSError, ValueError):
                # Written atomically, so unreadable means damaged on disk: set aside, never retried for ever.
                logger.exception("search index: unreadable spooled write %s set aside", path)
                path.rename(path.with_suffix(".bad"))
        return ops

    def _drain(self) -> None:
        """Apply every spooled write, oldest first, in one commit (caller holds the write lock)."""
        ops = self._ops(self.spool)
        if not ops:
            return
        name = self.current_name()
        index = self._live.index if self._live is not None and self._live.name == name else None
        index = index or self._open(self.root / name)
        self._apply(index, self.root / name, [op for _, op in ops])
        rebuilding = (self.root / REBUILDING).exists()
        for path, _ in ops:
            if rebuilding:
                # The rebuild read the database before or after this write: replaying it keeps the newest.
                path.rename(self.journal / path.name)
            else:
                path.unlink()
        if self._live is not None and self._live.name == name:
            self._live.index.reload()
            self._live.meta_stamp = _stamp(self.root / name / "meta.json")

    def _apply(self, index: tantivy.Index, path: Path, ops: list[dict]) -> None:
        """Apply the writes in one commit; a file a writer killed in mid-commit left where this commit
        writes (tantivy names a deletes file after its segment and opstamp, and the replayed writes reach
        the same opstamp) is removed and the commit made again."""
        try:
            self._commit(index, ops)
        except ValueError as exc:
            stray = _stray_file(exc, path)
            if stray is None:
                raise
            logger.warning("search index: %s, left by a writer stopped in mid-commit, removed", stray.name)
            stray.unlink()
            self._commit(index, ops)

    @staticmethod
    def _commit(index: tantivy.Index, ops: list[dict]) -> None:
        writer = index.writer(WRITER_HEAP, 1)
        try:
            for op in ops:
                for pid in op["pages"]:
                    writer.delete_documents_by_term("page_id", pid)
                for data in op["entries"]:
                    entry = entry_from_json(data)
                    writer.delete_documents_by_term("key", entry.key)
                    writer.add_document(fields.to_document(entry))
            writer.commit()
            writer.garbage_collect_files()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()

    # Rebuilding

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """One rebuild at a time; writes meanwhile are journaled for it."""
        with self._flock("rebuild.lock", timeout=None):
            with self.write_lock(timeout=None):
                self._drain()
                for p in self.journal.iterdir():
                    p.unlink()
                (self.root / REBUILDING).touch()
            try:
                yield
            finally:
                (self.root / REBUILDING).unlink(missing_ok=True)

    def build(self, entries, *, expected_page_ids: set[int] | None = None) -> tuple[Path, int]:
        """A new index from ``entries``, committed aside; nothing reads it yet."""
        path = self._new_dir()
        try:
            index = self._create(path)
            writer = index.writer(REBUILD_HEAP, 1)
            n = 0
            for e in entries:
                writer.add_document(fields.to_document(e))
                n += 1
            writer.commit()
            writer.wait_merging_threads()
            if expected_page_ids is not None:
                index.reload()
                got = page_ids(index.searcher())
                if got != expected_page_ids:
                    raise EngineUnavailable(
                        f"The new search index holds {len(got)} pages, not the {len(expected_page_ids)} "
                        "expected; the live index was kept."
                    )
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return path, n

    def swap(self, path: Path) -> None:
        """Replay what was written meanwhile into the new index, then point every reader at it."""
        try:
            with self.write_lock(timeout=None):
                self._drain()
                ops = self._ops(self.journal)
                if ops:
                    index = fields.register(tantivy.Index.open(str(path)))
                    self._apply(index, path, [op for _, op in ops])
                self._point_to(path.name)
                for p, _ in ops:
                    p.unlink()
                (self.root / REBUILDING).unlink(missing_ok=True)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        self._remove_old(keep=path.name)

    def _remove_old(self, keep: str) -> None:
        """Delete index directories older than the previous one (a reader may still be on that one)."""
        keep_n = int(_DIR.match(keep).group(1))
        for p in self.root.iterdir():
            m = _DIR.match(p.name)
            if m and int(m.group(1)) < keep_n - 1:
                shutil.rmtree(p, ignore_errors=True)


_EXISTS = re.compile(r'FileAlreadyExists\("([^"/]+)"\)')


def _stray_file(exc: ValueError, path: Path) -> Path | None:
    """The file a failed commit found in its way, if the last commit does not use it: a segment's file
    whose segment it does not list, or a deletes file of another opstamp than the one it lists."""
    found = _EXISTS.search(str(exc))
    if not found:
        return None
    name = found.group(1)
    try:
        segments = json.loads((path / "meta.json").read_text())["segments"]
    except (OSError, ValueError, KeyError):
        return None
    used = set()
    for segment in segments:
        sid = segment["segment_id"].replace("-", "")
        used.add(sid)
        if segment.get("deletes"):
            used.add(f"{sid}.{segment['deletes']['opstamp']}.del")
    segment_id = name.split(".", 1)[0]
    if name in used or (segment_id in used and not name.endswith(".del")):
        return None
    stray = path / name
    return stray if stray.is_file() else None


def page_ids(searcher: tantivy.Searcher) -> set[int]:
    if not searcher.num_docs:
        return set()
    # Ordered by a fast field, a hit's "score" is that field's value.
    hits = searcher.search(
        tantivy.Query.all_query(), searcher.num_docs, count=False, order_by_field="page_id"
    ).hits
    return {int(value) for value, _ in hits}
