"""What the tantivy index holds: its fields, its analyzers, and an entry as a tantivy document.

Text is folded by ``search.text.normalize`` before tantivy sees it, so every engine folds case,
diacritics and Cyrillic alike. Each text is indexed twice: stemmed with positions (words, phrases,
BM25) and unstemmed with document ids only (prefixes, autocomplete, spelling), so a prefix is
matched against the words as written, never against their stems.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import UTC, datetime

import tantivy

from search.engines.base import Entry
from search.engines.common import SNIPPET_SCAN_CHARS, WEIGHTS
from search.query import FACETS
from search.text import normalize

# Raised whenever the fields below change: an index of another layout is rebuilt, never read.
SCHEMA_VERSION = 1

STEMMED = "kb_stem"
UNSTEMMED = "kb_word"
# Longer tokens are no word a member types (base64, hashes); both analyzers drop them alike.
MAX_TOKEN_CHARS = 80

# Stemmed text fields and their BM25 weights, as the other engines weigh them.
TEXT_FIELDS = ("title", "summary", "tags", "names", "body")
FIELD_WEIGHTS = dict(zip(TEXT_FIELDS, WEIGHTS, strict=True))
# Unstemmed twins for prefixes: the title; summary and tags; names and body.
RAW_TITLE, RAW_NEAR, RAW_FAR = "title_raw", "near_raw", "far_raw"
RAW_FIELDS = (RAW_TITLE, RAW_NEAR, RAW_FAR)
# The fields each ranking tier looks in: all the words in the title; in title, summary or tags.
TIER_FIELDS = (("title",), ("title", "summary", "tags"))
TIER_RAW = ((RAW_TITLE,), (RAW_TITLE, RAW_NEAR))
# The stemmed field whose weight a prefix match in an unstemmed one gets.
RAW_WEIGHT_OF = {RAW_TITLE: "title", RAW_NEAR: "summary", RAW_FAR: "body"}
# Paths are indexed with every ancestor, so "under this site root" is one term.
PATH_STEP = 4
# Entries without a date sort after every dated one.
NO_DATE = -(2**62)
# Separates a facet value from its label in the fast field the counts are read from.
LABEL_SEP = "\x1f"


def facet_field(facet: str) -> str:
    """The indexed field filters match on (the value alone)."""
    return f"f_{facet}"


def label_field(facet: str) -> str:
    """The fast field facets are counted on: "value<LABEL_SEP>label"."""
    return f"fl_{facet}"


def analyzer(stemmed: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
    )
    if stemmed:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("kind", tokenizer_name="raw", index_option="basic")  # page | doc
    sb.add_integer_field("page_id", indexed=True, fast=True)
    sb.add_text_field("paths", tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=STEMMED, index_option="position")
    for name in RAW_FIELDS:
        sb.add_text_field(name, tokenizer_name=UNSTEMMED, index_option="basic")
    for facet in FACETS:
        sb.add_text_field(facet_field(facet), tokenizer_name="raw", index_option="basic")
        sb.add_text_field(label_field(facet), tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_integer_field("date", indexed=False, fast=True)
    sb.add_integer_field("expires", indexed=True, fast=True)
    sb.add_text_field("title_sort", tokenizer_name="raw", index_option="basic", fast=True)
    # Everything a hit shows, in one stored value: the text is kept once, for highlights.
    sb.add_bytes_field("stored", stored=True)
    return sb.build()


def register(index: tantivy.Index) -> tantivy.Index:
    """Analyzers are not saved with an index: every opened index gets them again."""
    index.register_tokenizer(STEMMED, analyzer(stemmed=True))
    index.register_tokenizer(UNSTEMMED, analyzer(stemmed=False))
    return index


def timestamp(value: datetime | None, scale: int = 1) -> int | None:
    """Seconds (or ``scale``-ths of one) since the epoch; a naive time is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.floor(value.timestamp() * scale)


def ancestor_paths(path: str) -> list[str]:
    return [path[:n] for n in range(PATH_STEP, len(path) + 1, PATH_STEP)] or [path]


def to_document(e: Entry) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", e.key)
    doc.add_text("kind", "doc" if e.document else "page")
    doc.add_integer("page_id", e.page_id)
    for p in ancestor_paths(e.path):
        doc.add_text("paths", p)
    title, summary, tags = normalize(e.title), normalize(e.summary), normalize(" ; ".join(e.tags))
    names, body = normalize(e.names), normalize(e.body)
    for name, text in zip(TEXT_FIELDS, (title, summary, tags, names, body), strict=True):
        doc.add_text(name, text)
    doc.add_text(RAW_TITLE, title)
    doc.add_text(RAW_NEAR, summary + " \n " + tags)
    doc.add_text(RAW_FAR, names + " \n " + body)
    for facet, values in e.facets.items():
        if facet not in FACETS:
            continue
        labels = e.labels.get(facet, {})
        for v in dict.fromkeys(str(v) for v in values):
            doc.add_text(facet_field(facet), v)
            doc.add_text(label_field(facet), v + LABEL_SEP + labels.get(v, v))
    date = timestamp(e.date)
    doc.add_integer("date", NO_DATE if date is None else date)
    if e.expires is not None:
        doc.add_integer("expires", timestamp(e.expires, 1000))  # milliseconds, as searches compare
    doc.add_text("title_sort", title)
    stored = {
        "key": e.key,
        "page_id": e.page_id,
        "type": e.type,
        "title": e.title,
        "url": e.url,
        # Highlights look no further than this into a text: keep no more of it.
        "summary": e.summary[:SNIPPET_SCAN_CHARS],
        "body": e.body[: max(0, SNIPPET_SCAN_CHARS - len(e.summary))],
        "tags": list(e.tags),
        "display": e.display,
        "document": asdict(e.document) if e.document else None,
    }
    doc.add_bytes("stored", json.dumps(stored, default=str, separators=(",", ":")).encode())
    return doc
