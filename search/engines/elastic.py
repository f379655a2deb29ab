"""The Elasticsearch engine: the same search as the embedded engine, for a knowledge base on a cluster.

One index of entries, versioned behind an alias, so a rebuild fills a new index aside and swaps the
alias in one atomic call. Facet values are stored as keywords carrying their labels, and each facet
is counted by a filter aggregation holding every other facet's filter while the selected values
apply as ``post_filter``: disjunctive counts over the whole match set, as the embedded engine gives.

Words match exactly (after stemming and folding), as in the embedded engine, so both engines find
the same pages; typos are handled by the phrase suggester's fuzzy candidates (``max_edits`` 2), whose
correction the service runs when the query itself finds nothing.
"""

from __future__ import annotations

import html
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers
from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    Index,
    Integer,
    Keyword,
    Object,
    Q,
    Search,
    SearchAsYouType,
    Text,
    analyzer,
    char_filter,
    normalizer,
    token_filter,
)

from search.engines.base import (
    SIMILAR_FIELDS,
    SIMILAR_TERMS,
    Completion,
    DocumentPart,
    Engine,
    EngineUnavailable,
    Entry,
    FacetCount,
    Hit,
    IndexMismatch,
    Results,
)
from search.engines.common import (
    FIELD_WEIGHTS,
    TEXT_FIELDS,
    apply_correction,
    merge_completions,
    plain_snippet,
    unique_titles,
)
from search.facets import FACET_CAP, SUGGESTED, ordered
from search.query import FACETS, Query
from search.text import CYRILLIC_TO_LATIN, LATIN_EXTRA, STOP_WORDS, normalize

FIELD_BOOSTS = tuple(f if w == 1 else f"{f}^{w:g}" for f, w in FIELD_WEIGHTS.items())
# The same fields unstemmed (``<field>.exact``): what a prefix matches, so "recy*" is not stemmed to "reci".
PREFIX_BOOSTS = tuple(f.replace("^", ".exact^") if "^" in f else f"{f}.exact" for f in FIELD_BOOSTS)
SNIPPET_CHARS = 220
BULK_CHUNK = 500
# Separates the parts of a facet key: folded label (sorts and autocompletes), label, value.
SEP = "\x1f"
# A rebuild catches up pages journaled this long before it began: other hosts' clocks may lag.
CLOCK_MARGIN = timedelta(seconds=30)
JOURNAL_BODY = {
    "settings": {"number_of_shards": 1},
    "mappings": {"properties": {"page_id": {"type": "integer"}, "at": {"type": "date"}}},
}


def _is_transient(status: int | None) -> bool:
    """Overloaded (429) or failing server-side (5xx): "not now", so fall back or queue."""
    return status is not None and (status == 429 or status >= 500)


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


def _regex_escape(text: str) -> str:
    return "".join(c if c.isalnum() and c.isascii() else "\\" + c for c in text)


def _term_clause(term, *, boosted: bool) -> Q:
    fields = list(FIELD_BOOSTS if boosted else TEXT_FIELDS)
    if term.phrase:
        return Q("multi_match", query=term.text, type="phrase", fields=fields)
    if term.prefix:
        # Against the unstemmed subfields: a prefix is the start of a word as written, not of a stem.
        exact = list(PREFIX_BOOSTS if boosted else (f"{f}.exact" for f in TEXT_FIELDS))
        return Q("multi_match", query=term.text, type="bool_prefix", fields=exact, operator="and")
    # One word may analyse to several tokens ("e-commerce"): each must be in some field.
    return Q("multi_match", query=term.text, type="cross_fields", fields=fields, operator="and")


def _expired() -> Q:
    return Q("range", expires={"lte": "now"})


def _facet_filter(facet: str, values: Iterable[str]) -> Q:
    return Q("terms", **{f"facets.{facet}": list(values)})


def build_search(query: Query, alias: str) -> Search:
    """The request for one parsed query; everything the engine asks of Elasticsearch when searching."""
    positive = [_term_clause(t, boosted=True) for t in query.positive_terms]
    negative = [_term_clause(t, boosted=False) for t in query.terms if t.negated]
    # In the query, not the post_filter, so facet counts leave expired entries out too.
    hidden = [*negative, _expired()]
    scope = []
    if query.within:
        scope.append(Q("bool", should=[Q("prefix", path=p) for p in query.within], minimum_should_match=1))
    if query.match_any and positive:
        main = Q("bool", should=positive, minimum_should_match=1, must_not=hidden, filter=scope)
    else:
        main = Q("bool", must=positive or [Q("match_all")], must_not=hidden, filter=scope)
    s = Search(index=alias).query(main).extra(track_total_hits=True)
    s = s[query.offset : query.offset + query.per_page]

    if query.sort == "title":
        s = s.sort({"title.sort": "asc"}, {"key": "asc"})
    elif query.sort == "newest" or query.is_empty:
        s = s.sort({"date": {"order": "desc", "missing": "_last"}}, {"key": "asc"})
    else:
        s = s.sort("_score", {"date": {"order": "desc", "missing": "_last"}}, {"key": "asc"})

    selected = {f: v for f, v in query.filters.items() if f in FACETS and v}
    if selected:
        s = s.post_filter(Q("bool", filter=[_facet_filter(f, v) for f, v in selected.items()]))

    if query.with_facets:
        for facet in FACETS:
            others = [_facet_filter(f, v) for f, v in selected.items() if f != facet]
            bucket = s.aggs.bucket(f"facet_{facet}", "filter", filter=Q("bool", filter=others))
            bucket.bucket(
                "values",
                "terms",
                field=f"facet_keys.{facet}",
                size=FACET_CAP,
                order=[{"_count": "desc"}, {"_key": "asc"}],
            )
            if facet in selected:
                # Selected values beyond the first FACET_CAP still need their counts.
                bucket.bucket(
                    "selected",
                    "terms",
                    field=f"facets.{facet}",
                    include=list(selected[facet]),
                    size=len(selected[facet]),
                )
        if selected:
            # Labels of selected values, even those no longer matching anything.
            labels = s.aggs.bucket("selected_labels", "global")
            for facet, values in selected.items():
                labels.bucket(facet, "filter", filter=_facet_filter(facet, values)).bucket(
                    "keys",
                    "terms",
                    field=f"facet_keys.{facet}",
                    include=_keys_regex(values),
                    size=len(values) * 4,
                )

    if query.with_highlights and positive:
        s = s.highlight_options(
            encoder="html",
            pre_tags=["<mark>"],
            post_tags=["</mark>"],
            require_field_match=False,
            highlight_query=Q("bool", should=positive).to_dict(),
        )
        s = s.highlight("title", number_of_fragments=0)
        s = s.highlight("summary", "body", fragment_size=SNIPPET_CHARS, number_of_fragments=1)

    words = [t.text for t in query.positive_terms if not (t.phrase or t.prefix)]
    if words:
        s = s.suggest(
            "did_you_mean",
            " ".join(words),
            phrase={
                "field": "spell",
                "size": 1,
                "gram_size": 3,
                "max_errors": 2,
                "direct_generator": [
                    {"field": "spell", "suggest_mode": "missing", "max_edits": 2, "min_word_length": 3}
                ],
                # Only a correction that finds some visible entry: the spell field also holds
                # the words of expired entries and of other sites.
                "collate": {"query": {"source": _collate_query(scope)}, "prune": False},
            },
        )
    return s


def build_similar(page_id: int, alias: str, *, limit: int, within: tuple[str, ...] = ()) -> Search:
    """More-like-this over the page's own entry: other practices' pages, visible, never its own parts."""
    like = Q(
        "more_like_this",
        fields=list(SIMILAR_FIELDS),
        like=[{"_index": alias, "_id": f"page:{int(page_id)}"}],
        min_term_freq=1,
        min_doc_freq=2,
        max_query_terms=SIMILAR_TERMS,
        minimum_should_match=1,
        stop_words=sorted(STOP_WORDS),
    )
    scope = [Q("term", type="practice"), Q("term", part=False)]
    if within:
        scope.append(Q("bool", should=[Q("prefix", path=p) for p in within], minimum_should_match=1))
    query = Q("bool", must=[like], must_not=[Q("term", page_id=int(page_id)), _expired()], filter=scope)
    s = Search(index=alias).query(query).sort("_score", {"key": "asc"})
    return s[:limit]


def _collate_query(scope: list[Q]) -> dict[str, Any]:
    """The suggester's check of a corrected text (a mustache template over ``{{suggestion}}``)."""
    words = Q(
        "multi_match", query="{{suggestion}}", type="cross_fields", fields=list(TEXT_FIELDS), operator="and"
    )
    return Q("bool", must=[words], must_not=[_expired()], filter=scope).to_dict()


def _keys_regex(values: Iterable[str]) -> str:
    """Terms-aggregation ``include`` matching the stored keys of these exact values."""
    alternatives = "|".join(_regex_escape(v) for v in values)
    return f"[^{SEP}]*{SEP}[^{SEP}]*{SEP}({alternatives})"


def _prefix_regex(folded_prefix: str) -> str:
    """Keys whose folded label has a word starting with the prefix."""
    body = _regex_escape(folded_prefix)
    return f"([^{SEP}]*[^a-z0-9{SEP}])?{body}[^{SEP}]*{SEP}.*"


class ElasticEngine(Engine):
    name = "elasticsearch"
    queued_writes = True

    def __init__(
        self,
        url: str,
        index_prefix: str = "kb",
        timeout: float = 2.0,
        api_key: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        verify_certs: bool = True,
        client: Elasticsearch | None = None,
    ):
        self.url = url
        self.alias = f"{index_prefix}-entries"
        # When each page was last written: what a rebuild catches up on before it swaps the alias.
        self.journal = f"{index_prefix}-journal"
        self.timeout = timeout
        self._ready = False
        self._journal_ready = False
        self.client = client or Elasticsearch(
            url,
            api_key=api_key,
            basic_auth=basic_auth,
            verify_certs=verify_certs,
            request_timeout=timeout,
            # A search falls back at once rather than waiting through retries.
            max_retries=0,
            retry_on_timeout=False,
        )

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: Query) -> Results:
        s = build_search(query, self.alias)
        try:
            response = self._call(self.client.search, index=self.alias, body=s.to_dict())
        except NotFoundError:
            response = {"hits": {"total": {"value": 0}, "hits": []}}
        return parse_response(query, response)

    def similar(self, page_id: int, *, limit: int = 6, within: tuple[str, ...] = ()) -> list[Hit]:
        if limit <= 0:
            return []
        s = build_similar(page_id, self.alias, limit=limit, within=within)
        try:
            response = self._call(self.client.search, index=self.alias, body=s.to_dict())
        except NotFoundError:
            return []
        query = Query(with_facets=False, with_highlights=False)
        return [_hit(h, query) for h in response["hits"]["hits"]]

    def autocomplete(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
        folded = " ".join(normalize(prefix).split())
        if not folded or limit <= 0:
            return []
        s = self._autocomplete_search(prefix, folded, limit, within)
        try:
            response = self._call(self.client.search, index=self.alias, body=s.to_dict())
        except NotFoundError:
            return []
        return parse_completions(response, limit)

    def _autocomplete_search(self, prefix: str, folded: str, limit: int, within: tuple[str, ...]) -> Search:
        fields = ["title.complete", "title.complete._2gram", "title.complete._3gram"]
        scope = []
        if within:
            scope.append(Q("bool", should=[Q("prefix", path=p) for p in within], minimum_should_match=1))
        s = Search(index=self.alias).query(
            Q(
                "bool",
                must=[Q("multi_match", query=prefix, type="bool_prefix", fields=fields, operator="and")],
                must_not=[_expired()],
                filter=[Q("term", part=False), *scope],
            )
        )
        # More titles than needed: several entries may share one title.
        s = s.source(["title", "url"]).extra(size=limit * 3)
        # Labels are counted over every visible entry of the site, not only the titles matched.
        labels = s.aggs.bucket("labels", "global").bucket(
            "visible", "filter", filter=Q("bool", must_not=[_expired()], filter=scope)
        )
        for facet in SUGGESTED:
            labels.bucket(
                facet,
                "terms",
                field=f"facet_keys.{facet}",
                include=_prefix_regex(folded),
                size=limit,
                order=[{"_count": "desc"}, {"_key": "asc"}],
            )
        return s

    # -- writing -----------------------------------------------------------------------------

    def index(self, entries: Iterable[Entry]) -> int:
        entries = list(entries)
        self.ensure_index()
        actions = [
            *self._journal_actions({e.page_id for e in entries}),
            *index_actions(entries, self.alias),
        ]
        return self._bulk(actions, refresh=True)

    def remove_pages(self, page_ids: Iterable[int]) -> int:
        return self.replace_pages(page_ids, [])

    def replace_pages(self, page_ids: Iterable[int], entries: Iterable[Entry]) -> int:
        """Give these pages exactly these entries in one bulk and one refresh: no search sees them missing."""
        entries = list(entries)
        ids = sorted(set(page_ids) | {e.page_id for e in entries})
        if not ids:
            return 0
        if entries:
            self.ensure_index()
        else:
            self._ensure_journal()
        try:
            keys = self._keys(self.alias, ids)
        except NotFoundError:
            keys = []
        kept = {e.key for e in entries}
        actions = [
            *self._journal_actions(ids),
            *index_actions(entries, self.alias),
            *delete_actions([k for k in keys if k not in kept], self.alias),
        ]
        return self._bulk(actions, refresh=True)

    def _keys(self, index: str, page_ids: list[int]) -> list[str]:
        return [hit["_id"] for hit in self._scan(index, {"terms": {"page_id": page_ids}}, source=False)]

    def _scan(self, index: str, query: dict, *, source: bool) -> list[dict]:
        body = {"query": query, **({} if source else {"_source": False})}
        return self._call(lambda: list(helpers.scan(self.client, index=index, query=body, size=1000)))

    def _journal_actions(self, page_ids: Iterable[int]) -> Iterator[dict]:
        at = datetime.now(UTC).isoformat()
        for pid in sorted(page_ids):
            yield {
                "_op_type": "index",
                "_index": self.journal,
                "_id": str(pid),
                "_source": {"page_id": pid, "at": at},
            }

    def _ensure_journal(self) -> None:
        if self._journal_ready:
            return
        try:
            self._call(self.client.indices.create, index=self.journal, body=JOURNAL_BODY)
        except ApiError as exc:
            if not _already_exists(exc):
                raise
        self._journal_ready = True

    def rebuild(
        self,
        entries: Iterable[Entry],
        *,
        expected_page_ids: set[int] | None = None,
    ) -> int:
        """Fill a new versioned index, check it, swap the alias to it and drop the old ones.

        With ``expected_page_ids`` (the live public pages) the new index must hold exactly those
        pages, or it is deleted and ``IndexMismatch`` raised: the live index stays untouched.

        Pages written to the live index meanwhile (by any process: the journal records them) are
        copied over before the swap, with the live index blocked for writes, so none is lost;
        a write refused by the block is queued as in an outage.
        """
        started = datetime.now(UTC)
        self._ensure_journal()
        new = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        self._call(self.client.indices.create, index=new, body=index_body())
        old: list[str] = []
        try:
            written = self._bulk(index_actions(entries, new), refresh=False)
            self._call(self.client.indices.refresh, index=new)
            if expected_page_ids is not None:
                got = self._page_ids(new)
                if got != set(expected_page_ids):
                    missing, extra = set(expected_page_ids) - got, got - set(expected_page_ids)
                    raise IndexMismatch(
                        f"New index {new} holds {len(got)} pages, expected {len(expected_page_ids)} "
                        f"({len(missing)} missing, {len(extra)} unexpected); the live index was kept."
                    )
            old = self._aliased_indices()
            if old:
                self._block_writes(old)
                self._catch_up(new, started - CLOCK_MARGIN)
            self._call(
                self.client.indices.update_aliases,
                actions=alias_actions(self.alias, new, old),
            )
        except BaseException:
            self._delete_quietly([new])
            if old:
                self._unblock_writes(old)
            raise
        self._delete_quietly(old)
        return written

    def _block_writes(self, indices: list[str]) -> None:
        """The add-block API (``PUT /<index>/_block/write``): unlike setting ``index.blocks.write``, it
        answers only once writes already in flight have finished, so the catch-up reads them all."""
        response = self._call(self.client.indices.add_block, index=",".join(indices), block="write")
        refused = [i["name"] for i in response.get("indices", []) if not i.get("blocked")]
        if not response.get("acknowledged") or refused:
            raise EngineUnavailable(f"Elasticsearch did not block writes on {', '.join(refused) or indices}.")

    def _unblock_writes(self, indices: list[str]) -> None:
        """Lift the block of a rebuild that failed (the setting the add-block API set), quietly."""
        try:
            self._call(
                self.client.indices.put_settings,
                index=",".join(indices),
                settings={"index.blocks.write": False},
            )
        except (EngineUnavailable, ApiError):
            pass

    def _catch_up(self, new: str, since: datetime) -> None:
        """Copy into the new index the live state of every page journaled since ``since``."""
        try:
            journaled = self._scan(self.journal, {"range": {"at": {"gte": since.isoformat()}}}, source=True)
        except NotFoundError:
            return
        ids = sorted({hit["_source"]["page_id"] for hit in journaled})
        if not ids:
            return
        live = self._scan(self.alias, {"terms": {"page_id": ids}}, source=True)
        kept = {hit["_id"] for hit in live}
        actions = [
            *({"_op_type": "index", "_index": new, "_id": h["_id"], "_source": h["_source"]} for h in live),
            *delete_actions([k for k in self._keys(new, ids) if k not in kept], new),
        ]
        self._bulk(actions, refresh=False)
        self._call(self.client.indices.refresh, index=new)

    def ensure_index(self) -> None:
        """Create a first index behind the alias when there is none.

        One fixed name, created together with its alias in one call: of two processes creating it at
        once, one creates it and the other is told it exists, so the alias never lands on two indices.
        """
        self._ensure_journal()
        if self._ready or self._aliased_indices():
            self._ready = True
            return
        first = f"{self.alias}-first"
        try:
            self._call(
                self.client.indices.create, index=first, body={**index_body(), "aliases": {self.alias: {}}}
            )
        except ApiError as exc:
            if not _already_exists(exc):
                raise
            if not self._aliased_indices():  # left without its alias by a process that died: adopt it
                self._call(
                    self.client.indices.update_aliases,
                    actions=[{"add": {"index": first, "alias": self.alias}}],
                )
        self._ready = True

    def drop(self) -> None:
        """Delete every index behind the alias, and the journal (tests, and retiring a knowledge base)."""
        self._delete_quietly([*self._aliased_indices(), self.journal])
        self._ready = self._journal_ready = False

    # -- state -------------------------------------------------------------------------------

    def count(self) -> int:
        try:
            return self._call(self.client.count, index=self.alias)["count"]
        except NotFoundError:
            return 0

    def page_ids(self) -> set[int]:
        try:
            return self._page_ids(self.alias)
        except NotFoundError:
            return set()

    def health(self) -> dict[str, Any]:
        """What the admin shows: reachable, entries and pages indexed, which index is live."""
        try:
            indices = self._aliased_indices()
            return {
                "reachable": True,
                "index": ", ".join(indices),
                "entries": self.count(),
                "pages": len(self.page_ids()),
                "error": "",
            }
        except EngineUnavailable as exc:
            return {"reachable": False, "index": "", "entries": None, "pages": None, "error": str(exc)}

    def _page_ids(self, index: str) -> set[int]:
        ids: set[int] = set()
        after = None
        while True:
            composite: dict[str, Any] = {"size": 1000, "sources": [{"page": {"terms": {"field": "page_id"}}}]}
            if after:
                composite["after"] = after
            body = {"size": 0, "aggs": {"pages": {"composite": composite}}}
            agg = self._call(self.client.search, index=index, body=body)["aggregations"]["pages"]
            ids.update(b["key"]["page"] for b in agg["buckets"])
            after = agg.get("after_key")
            if not agg["buckets"] or not after:
                return ids

    def _aliased_indices(self) -> list[str]:
        try:
            return sorted(self._call(self.client.indices.get_alias, name=self.alias))
        except NotFoundError:
            return []

    def _delete_quietly(self, indices: list[str]) -> None:
        if indices:
            try:
                self._call(self.client.indices.delete, index=",".join(indices), ignore_unavailable=True)
            except (EngineUnavailable, ApiError):
                pass

    def _bulk(self, actions: Iterable[dict], *, refresh: bool) -> int:
        written = 0
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=BULK_CHUNK,
                **({"refresh": True} if refresh else {}),
                raise_on_error=False,
                max_retries=0,
            ):
                ((op, result),) = item.items()
                if ok:
                    written += result.get("_index") != self.journal
                    continue
                if op == "delete" and result.get("status") == 404:
                    continue
                if _is_transient(result.get("status")) or _blocked(result):
                    raise EngineUnavailable(f"Elasticsearch refused a {op} ({result.get('status')}).")
                raise IndexWriteError(
                    f"Elasticsearch could not {op} {result.get('_id')}: {result.get('error')}"
                )
        except (elastic_transport.TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        return written

    def _call(self, fn, *args, **kwargs):
        try:
            response = fn(*args, **kwargs)
        except NotFoundError:
            raise
        except (elastic_transport.TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        return getattr(response, "body", response)


class IndexWriteError(RuntimeError):
    """Elasticsearch rejected an entry for a reason waiting will not cure (a mapping error)."""


def _already_exists(exc: ApiError) -> bool:
    return exc.meta.status == 400 and "already_exists" in str(exc)


def _blocked(result: dict) -> bool:
    """Refused by a rebuild's write block on the index it is about to replace: "not now"."""
    return (result.get("error") or {}).get("type") == "cluster_block_exception"


def _unavailable(exc: Exception) -> Exception:
    if isinstance(exc, ApiError) and not _is_transient(exc.meta.status):
        return exc
    if isinstance(exc, elastic_transport.ConnectionTimeout):
        return EngineUnavailable(f"Elasticsearch did not answer in time: {exc}")
    if isinstance(exc, ApiError):
        return EngineUnavailable(f"Elasticsearch is overloaded or unavailable ({exc.meta.status}).")
    return EngineUnavailable(f"Elasticsearch is unreachable: {exc}")


def index_actions(entries: Iterable[Entry], index: str) -> Iterator[dict]:
    for entry in entries:
        yield {"_op_type": "index", "_index": index, "_id": entry.key, "_source": to_source(entry)}


def delete_actions(keys: Iterable[str], index: str) -> Iterator[dict]:
    for key in keys:
        yield {"_op_type": "delete", "_index": index, "_id": key}


def alias_actions(alias: str, new: str, old: Iterable[str]) -> list[dict]:
    """One ``_aliases`` call: readers see the old index or the new one, never neither."""
    return [{"add": {"index": new, "alias": alias}}] + [
        {"remove": {"index": name, "alias": alias}} for name in old if name != new
    ]


# -- responses ---------------------------------------------------------------------------------


def parse_response(query: Query, response: dict[str, Any]) -> Results:
    hits = [_hit(h, query) for h in response["hits"]["hits"]]
    total = response["hits"]["total"]
    total = total["value"] if isinstance(total, dict) else int(total)
    facets = _facets(query, response.get("aggregations", {})) if query.with_facets else {}
    return Results(
        total=total,
        hits=hits,
        facets=facets,
        correction=_correction(query, response.get("suggest", {})),
    )


def _hit(raw: dict[str, Any], query: Query) -> Hit:
    src = raw["_source"]
    marked = raw.get("highlight", {})
    title_html = (marked.get("title") or [html.escape(src["title"])])[0]
    snippet_html = (
        marked.get("summary")
        or marked.get("body")
        or [plain_snippet(src.get("summary") or "", src.get("body") or "")]
    )[0]
    doc = src.get("document")
    return Hit(
        key=src["key"],
        page_id=src["page_id"],
        type=src["type"],
        title=src["title"],
        url=src["url"],
        title_html=title_html,
        snippet_html=snippet_html,
        score=raw.get("_score") or 0.0,
        display=src.get("display") or {},
        document=DocumentPart(**doc) if doc else None,
    )


def _facets(query: Query, aggs: dict[str, Any]) -> dict[str, list[FacetCount]]:
    labels: dict[tuple[str, str], str] = {}
    for facet, agg in aggs.get("selected_labels", {}).items():
        if isinstance(agg, dict) and "keys" in agg:
            for b in agg["keys"]["buckets"]:
                value, label = split_facet_key(b["key"])
                labels.setdefault((facet, value), label)
    out: dict[str, list[FacetCount]] = {}
    for facet in FACETS:
        agg = aggs.get(f"facet_{facet}", {})
        chosen = query.filters.get(facet, ())
        counts: dict[str, FacetCount] = {}
        for b in agg.get("values", {}).get("buckets", []):
            value, label = split_facet_key(b["key"])
            if value in counts:  # one value stored under two labels: a relabel not yet reindexed
                counts[value].count += b["doc_count"]
            else:
                counts[value] = FacetCount(value, b["doc_count"], value in chosen, label)
        selected_counts = {b["key"]: b["doc_count"] for b in agg.get("selected", {}).get("buckets", [])}
        for value in chosen:
            if value in counts:
                counts[value].count = selected_counts.get(value, counts[value].count)
            else:
                label = labels.get((facet, value), value)
                counts[value] = FacetCount(value, selected_counts.get(value, 0), True, label)
        out[facet] = ordered(counts.values(), chosen)
    return out


def _correction(query: Query, suggest: dict[str, Any]) -> str | None:
    """The query text with each misspelt word replaced by the phrase suggester's correction."""
    entries = suggest.get("did_you_mean") or []
    if not entries or not entries[0].get("options"):
        return None
    corrected = entries[0]["options"][0]["text"].split()
    words = [t.text for t in query.positive_terms if not (t.phrase or t.prefix)]
    if len(corrected) != len(words):
        return None
    fixes = [(w, fixed) for w, fixed in zip(words, corrected, strict=True) if normalize(w) != fixed]
    return apply_correction(query.text, fixes)


def parse_completions(response: dict[str, Any], limit: int) -> list[Completion]:
    """Tags, clusters and industries by how many entries have them, then titles; the labels take at
    most half the list unless titles leave room (as the embedded engine)."""
    aggs = response.get("aggregations", {}).get("labels", {}).get("visible", {})
    labels = []
    for facet in SUGGESTED:
        for bucket in aggs.get(facet, {}).get("buckets", []):
            value, label = split_facet_key(bucket["key"])
            labels.append((bucket["doc_count"], label, Completion(label, facet, value=value)))
    titles = unique_titles(
        ((h["_source"]["title"], h["_source"]["url"]) for h in response["hits"]["hits"]), limit
    )
    return merge_completions(labels, titles, limit)
