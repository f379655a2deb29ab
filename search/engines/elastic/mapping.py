"""The index's mapping and analysers, and an entry as the document stored for it (no I/O)."""

from __future__ import annotations

from typing import Any

from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    Index,
    Integer,
    Keyword,
    Object,
    SearchAsYouType,
    Text,
    analyzer,
    char_filter,
    normalizer,
    token_filter,
)

from search.engines.base import Entry
from search.query import FACETS
from search.text import CYRILLIC_TO_LATIN, LATIN_EXTRA, normalize

# Separates the parts of a facet key: folded label (sorts and autocompletes), label, value.
SEP = "\x1f"

JOURNAL_BODY = {
    "settings": {"number_of_shards": 1},
    "mappings": {"properties": {"page_id": {"type": "integer"}, "at": {"type": "date"}}},
}


def _mapping_rules(table: dict[str, str]) -> list[str]:
    return [f"{k} => {v}" for k, v in sorted(table.items())]


def _with_upper(table: dict[str, str]) -> dict[str, str]:
    return {**table, **{k.upper(): v for k, v in table.items() if k.upper() != k and not k.upper().isascii()}}


# Cyrillic becomes Latin exactly as search.text.normalize writes it; serbian_normalization then
# agrees with it on Serbian Latin (č -> c, đ -> dj), and asciifolding drops the remaining marks.
cyrillic = char_filter("kb_cyrillic", "mapping", mappings=_mapping_rules(CYRILLIC_TO_LATIN))
latin_extra = char_filter("kb_latin_extra", "mapping", mappings=_mapping_rules(_with_upper(LATIN_EXTRA)))
english_stemmer = token_filter("kb_english_stemmer", "stemmer", language="english")
shingles = token_filter("kb_shingles", "shingle", min_shingle_size=2, max_shingle_size=3)
FOLDING = ["lowercase", "serbian_normalization", "asciifolding"]
CHAR_FILTERS = [cyrillic, latin_extra]

text_analyzer = analyzer(
    "kb_text", tokenizer="standard", char_filter=CHAR_FILTERS, filter=[*FOLDING, english_stemmer]
)
folded_analyzer = analyzer("kb_folded", tokenizer="standard", char_filter=CHAR_FILTERS, filter=FOLDING)
shingle_analyzer = analyzer(
    "kb_shingle", tokenizer="standard", char_filter=CHAR_FILTERS, filter=[*FOLDING, shingles]
)
sort_normalizer = normalizer("kb_sort", char_filter=CHAR_FILTERS, filter=["lowercase", "asciifolding"])


class EntryDocument(Document):
    """One entry of the search contract: a page, or one page or slide of an attached document."""

    key = Keyword()
    page_id = Integer()
    type = Keyword()
    path = Keyword()
    part = Boolean()
    url = Keyword(index=False)
    title = Text(
        analyzer=text_analyzer,
        copy_to="spell",
        fields={
            "sort": Keyword(normalizer=sort_normalizer),
            "complete": SearchAsYouType(analyzer=folded_analyzer),
            "exact": Text(analyzer=folded_analyzer),
        },
    )
    summary = Text(analyzer=text_analyzer, copy_to="spell", fields={"exact": Text(analyzer=folded_analyzer)})
    body = Text(analyzer=text_analyzer, copy_to="spell", fields={"exact": Text(analyzer=folded_analyzer)})
    tags = Text(analyzer=text_analyzer, copy_to="spell", fields={"exact": Text(analyzer=folded_analyzer)})
    names = Text(analyzer=text_analyzer, copy_to="spell", fields={"exact": Text(analyzer=folded_analyzer)})
    # Unstemmed word shingles: what the phrase suggester corrects against.
    spell = Text(analyzer=shingle_analyzer)
    date = Date()
    # Past this moment the entry is left out of every search, before ``publish_scheduled`` unpublishes it.
    expires = Date()
    # Facet values to filter by, and "folded label<SEP>label<SEP>value" to count and autocomplete.
    facets = Object(properties={f: Keyword() for f in FACETS})
    facet_keys = Object(properties={f: Keyword() for f in FACETS})
    display = Object(enabled=False)
    document = Object(enabled=False)


def index_body() -> dict[str, Any]:
    """Settings and mappings of a new entries index."""
    index = Index("entries")
    index.document(EntryDocument)
    # Deep enough for the service's paged walks over every page with a facet value.
    index.settings(number_of_shards=1, max_result_window=100_000)
    return index.to_dict()


def facet_key(value: str, label: str) -> str:
    return SEP.join((normalize(label), label, value))


def split_facet_key(key: str) -> tuple[str, str]:
    """(value, label) of a stored facet key."""
    _folded, label, value = key.split(SEP, 2)
    return value, label


def to_source(entry: Entry) -> dict[str, Any]:
    facets = {f: list(v) for f, v in entry.facets.items() if f in FACETS and v}
    keys = {
        f: [facet_key(v, entry.labels.get(f, {}).get(v) or v) for v in values] for f, values in facets.items()
    }
    doc = entry.document
    return {
        "key": entry.key,
        "page_id": entry.page_id,
        "type": entry.type,
        "path": entry.path,
        "part": doc is not None,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "body": entry.body,
        "tags": list(entry.tags),
        "names": entry.names,
        "date": entry.date.isoformat() if entry.date else None,
        "expires": entry.expires.isoformat() if entry.expires else None,
        "facets": facets,
        "facet_keys": keys,
        "display": entry.display,
        "document": None
        if doc is None
        else {
            "document_id": doc.document_id,
            "filename": doc.filename,
            "page": doc.page,
            "unit": doc.unit,
            "url": doc.url,
        },
    }
