"""What the FTS5 index holds: its tables and layout version, and an entry as rows and back."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer
import zstandard

from search.engines.base import DocumentPart, Entry
from search.engines.common import TEXT_FIELDS
from search.text import normalize

TOP_PATH = chr(0x10FFFF)

# The near_fts table's columns: the fields of the first two ranking tiers, in the fts table's order.
NEAR_FIELDS = TEXT_FIELDS[:3]
assert NEAR_FIELDS == ("title", "summary", "tags")

# Raised whenever the layout below changes: an index of another layout is rebuilt, never read.
SCHEMA_VERSION = 8
# What a sort by title orders on: the folded title (``normalize``), which for most titles is SQLite's
# own ASCII lower() of it, so only the others keep it in ``title_sort``. An index on the expression
# holds it once (a column and an index on it held it twice).
TITLE_ORDER = "coalesce(title_sort, lower(title))"
SCHEMA = f"""
-- Pages of 16 KiB hold the compressed entries of ~1.4 KiB with 5% left over, where 4 KiB pages left 22%.
PRAGMA page_size = 16384;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('generation', 0);
INSERT INTO meta VALUES ('schema', {SCHEMA_VERSION});
CREATE TABLE entries (
    rowid INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    page_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    date REAL,
    expires REAL,
    document TEXT,
    -- What SQL never filters or orders on, compressed: see ``Packer``.
    stored BLOB NOT NULL,
    -- The folded title, only where SQLite's lower() of the title is not it (see ``title_sort``).
    title_sort TEXT
);
-- The Zstandard dictionary of ``stored``, trained on the entries a rebuild began with (see ``dictionary``).
CREATE TABLE zdict (id INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE INDEX entries_page ON entries (page_id);
CREATE INDEX entries_path ON entries (path);
CREATE INDEX entries_date ON entries (date IS NULL, date DESC);
CREATE INDEX entries_title ON entries ({TITLE_ORDER});
CREATE INDEX entries_expires ON entries (expires) WHERE expires IS NOT NULL;
-- Entries of each facet value as a little-endian bitset over rowids, kept by every write.
CREATE TABLE bitset (facet TEXT NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL, bits BLOB NOT NULL,
    PRIMARY KEY (facet, value)) WITHOUT ROWID;
-- Keys each write touched, so a rebuild running meanwhile can bring its new index up to date.
CREATE TABLE journal (generation INTEGER NOT NULL, key TEXT NOT NULL);
CREATE INDEX journal_generation ON journal (generation);
CREATE TABLE vocab (word TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX vocab_letter_length ON vocab (substr(word, 1, 1), length(word));
-- The text is kept once, as written, in entries: the fts tables hold only their index (contentless),
-- of the text folded by ``folded`` (a row is deleted by giving the same folded text back).
-- No prefix index (prefix = '2 3' held every posting twice more, 2.5 times the table): a prefix is
-- read from the terms it starts, as fast at 100,000 entries.
CREATE VIRTUAL TABLE fts USING fts5 ({", ".join(TEXT_FIELDS)}, content = '',
    tokenize = 'porter unicode61 remove_diacritics 2');
-- Title, summary and tags alone, so the first ranking tiers never read the body's long postings.
CREATE VIRTUAL TABLE near_fts USING fts5 ({", ".join(NEAR_FIELDS)}, content = '',
    tokenize = 'porter unicode61 remove_diacritics 2');
-- Titles for autocomplete, which never ranks: no column sizes (bm25's document lengths).
CREATE VIRTUAL TABLE title_fts USING fts5 (title, content = '', tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3', columnsize = 0);
"""

# A snowball stemmer keeps its state between calls: one per thread (gunicorn's threaded workers).
_stemmers = threading.local()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    stemmer = getattr(_stemmers, "porter", None)
    if stemmer is None:
        stemmer = _stemmers.porter = snowballstemmer.stemmer("porter")
    return stemmer.stemWord(word)


def folded(title: str, summary: str, tags: Iterable[str], names: str, body: str) -> tuple[str, ...]:
    """An entry's texts as the fts table indexes them, in its column order: writes and deletes alike."""
    return (
        normalize(title),
        normalize(summary),
        normalize(" ; ".join(tags)),
        normalize(names),
        normalize(body),
    )


def current_schema(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None and row[0] == SCHEMA_VERSION


def problem_of(conn: sqlite3.Connection) -> str:
    """What is wrong with an index file at open (layout and a quick integrity check), or ""."""
    try:
        if not current_schema(conn):
            return "The search index was built by another version or is damaged; run manage.py rebuild_search_index."
        result = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        return f"The search index is damaged ({exc})."
    return "" if result and result[0] == "ok" else f"The search index is damaged ({result and result[0]})."


def date_key(date: datetime | None) -> float | None:
    if date is None:
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date.timestamp()


ENTRY_COLUMNS = "key, page_id, title, url, path, date, expires, document, stored"


def title_sort(title: str) -> str | None:
    """The ``title_sort`` column of a title: its folded form, or None where ``TITLE_ORDER`` gives it
    from the title itself (SQLite's lower() folds A to Z only, as ``normalize`` does an ASCII title)."""
    key = normalize(title)
    return None if key == title.translate(_ASCII_LOWER) else key


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# A dictionary trained on the text of a rebuild's first 1,024 entries, at most 112 KiB: at 100,000
# entries ``stored`` is 15% smaller than zlib's with a 32 KiB preset dictionary, packed 5 times faster.
# Level 3: levels 7 and 9 pack 6% and 9% smaller at 4 and 6 times its CPU time (level 9's above zlib's).
ZDICT_BYTES = 112 * 1024
ZDICT_SAMPLE = slice(0, 1024)
ZSTD_LEVEL = 3
# Fewer entries than this are too little to train on: their text itself is the dictionary.
ZDICT_MIN_SAMPLES = 64


def pairs_of(entry: Entry, facets: Iterable[str]) -> list[tuple[str, str, str]]:
    """The entry's (facet, value, label) triples of these facets, each once, in order."""
    return list(
        dict.fromkeys(
            (f, str(v), entry.labels.get(f, {}).get(str(v), str(v)))
            for f, vs in entry.facets.items()
            if f in facets
            for v in vs
        )
    )


class Stored(NamedTuple):
    """What an entry keeps in ``stored``: all it has that SQL never filters or orders on."""

    type: str
    summary: str
    tags: tuple[str, ...]
    display: dict
    names: str
    pairs: list[tuple[str, str, str]]
    body: str


def _raw(entry: Entry, pairs: list[tuple[str, str, str]]) -> bytes:
    # JSON never holds a raw newline: the first one ends the head, and the body follows as it is.
    head = [entry.type, entry.summary, list(entry.tags), entry.display, entry.names, pairs]
    return json.dumps(head, default=str).encode() + b"\n" + entry.body.encode()


def dictionary(entries: Iterable[Entry], facets: Iterable[str]) -> bytes:
    """The dictionary of an index from some entries' stored text: one trained on them, or where they
    are too few to train on, their text (the last entries' where it is longer), b"" for none."""
    facets = tuple(facets)
    samples = [_raw(e, pairs_of(e, facets)) for e in entries]
    if len(samples) >= ZDICT_MIN_SAMPLES:
        try:
            # Single-threaded training is deterministic: the same entries give the same dictionary.
            return zstandard.train_dictionary(ZDICT_BYTES, samples).as_bytes()
        except zstandard.ZstdError:
            pass  # too little text all the same
    return b"".join(samples)[-ZDICT_BYTES:]


def dictionary_id(zdict: bytes) -> int:
    """What names a dictionary in the zdict table, so readers find their packer without reading it."""
    return int.from_bytes(hashlib.blake2b(zdict, digest_size=8).digest(), "little", signed=True)


class Packer:
    """An entry's ``Stored`` fields as one index's ``stored`` column keeps them: a Zstandard frame
    (with its size, without checksum or dictionary id) made with the index's dictionary: a trained
    one, or raw content (zstandard tells them apart by the trained one's magic number), or none."""

    def __init__(self, zdict: bytes):
        self.zdict = zdict
        # python-zstandard's compressors, decompressors and the dictionary they prepare on first use
        # are not thread-safe: each thread (gunicorn's threaded workers, a rebuild) has its own.
        self._local = threading.local()

    def _dict(self) -> zstandard.ZstdCompressionDict | None:
        # A raw-content dictionary is JSON text: it never begins with a trained one's magic number.
        return zstandard.ZstdCompressionDict(self.zdict) if self.zdict else None

    def pack(self, entry: Entry, pairs: list[tuple[str, str, str]]) -> bytes:
        compressor = getattr(self._local, "compressor", None)
        if compressor is None:
            zdict = self._dict()
            if zdict is not None:
                # Prepared once for the level, not loaded again for every entry.
                zdict.precompute_compress(level=ZSTD_LEVEL)
            compressor = self._local.compressor = zstandard.ZstdCompressor(
                level=ZSTD_LEVEL, dict_data=zdict, write_checksum=False, write_dict_id=False
            )
        return compressor.compress(_raw(entry, pairs))

    def _raw(self, stored: bytes) -> bytes:
        decompressor = getattr(self._local, "decompressor", None)
        if decompressor is None:
            decompressor = self._local.decompressor = zstandard.ZstdDecompressor(dict_data=self._dict())
        return decompressor.decompress(stored)

    def unpack(self, stored: bytes) -> Stored:
        head, body = self._raw(stored).split(b"\n", 1)
        type_, summary, tags, display, names, pairs = json.loads(head)
        return Stored(type_, summary, tuple(tags), display, names, [tuple(p) for p in pairs], body.decode())


# Packers by dictionary id, for the few index files a process reads over its life.
_packers: dict[int, Packer] = {}


def packer(conn: sqlite3.Connection) -> Packer:
    """The packer of the index ``conn`` is open on (an index made empty, not rebuilt, has no dictionary)."""
    row = conn.execute("SELECT id FROM zdict").fetchone()
    key = row[0] if row else 0
    found = _packers.get(key)
    if found is None:
        zdict = conn.execute("SELECT bytes FROM zdict").fetchone()[0] if row else b""
        if len(_packers) >= 4:
            _packers.clear()
        found = _packers[key] = Packer(zdict)
    return found


def entry_of(row: tuple, packer: Packer) -> Entry:
    """An entry as stored, back as the Entry it was made from (its facets and labels as indexed)."""
    key, page_id, title, url, path, date, expires, document, stored = row
    kept = packer.unpack(stored)
    facets: dict[str, list[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    for facet, value, label in kept.pairs:
        facets.setdefault(facet, []).append(value)
        labels.setdefault(facet, {})[value] = label
    return Entry(
        key=key,
        page_id=page_id,
        type=kept.type,
        title=title,
        url=url,
        path=path,
        summary=kept.summary,
        body=kept.body,
        tags=kept.tags,
        names=kept.names,
        facets={f: tuple(vs) for f, vs in facets.items()},
        date=datetime.fromtimestamp(date, UTC) if date is not None else None,
        expires=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
        display=kept.display,
        labels=labels,
        document=DocumentPart(**json.loads(document)) if document else None,
    )
