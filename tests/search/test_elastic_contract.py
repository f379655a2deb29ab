"""The Elasticsearch engine against its contract, without a server.

A real ``elasticsearch.Elasticsearch`` client talks HTTP to a small fake on 127.0.0.1 that records
each request and answers with bodies shaped as the Elasticsearch 9 REST API documents them. What is
checked is what we send and how we read what comes back; nothing here was run against a real node.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from search.engines.base import DocumentPart, EngineUnavailable, Entry
from search.engines.elastic import (
    FIELD_BOOSTS,
    SEP,
    ElasticEngine,
    IndexMismatch,
    facet_key,
    index_body,
    to_source,
)
from search.facets import FACET_CAP
from search.query import FACETS, parse
from search.text import CYRILLIC_TO_LATIN

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ALIAS = "kbt-entries"
LIVE = "kbt-entries-20260101000000-aaaaaa"
JOURNAL = "kbt-journal"
ACK = {"acknowledged": True, "shards_acknowledged": True}


class FakeElasticsearch:
    """Records requests; answers each from the first route whose method and path match."""

    def __init__(self):
        self.requests: list[dict] = []
        self.routes: list[tuple[str, re.Pattern, object]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": parts.path,
                    "params": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "raw": raw,
                    "body": _decode(raw),
                }
                fake.requests.append(request)
                status, body, delay = fake.answer(request)
                if delay:
                    time.sleep(delay)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=9")
                    self.send_header("X-Elastic-Product", "Elasticsearch")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def on(self, method: str, path: str, body=None, status: int = 200, delay: float = 0.0):
        """Answer ``method path`` (a regex over the whole path) with ``body`` (or a function of the request)."""
        self.routes.insert(0, (method, re.compile(path + r"\Z"), (status, body, delay)))

    def answer(self, request):
        for method, pattern, (status, body, delay) in self.routes:
            if method == request["method"] and pattern.match(request["path"]):
                body = body(request) if callable(body) else body
                if isinstance(body, Reply):
                    return body.status, body.body, delay
                return status, body, delay
        return 404, _not_found(request["path"]), 0.0

    def sent(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and re.fullmatch(path, r["path"])]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Reply:
    """A route's answer with its own status, for routes that answer differently request by request."""

    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body


def _decode(raw: str):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return [json.loads(line) for line in raw.splitlines() if line.strip()]


def _not_found(index: str) -> dict:
    # The shape of a 404 for a missing index or alias, as Elasticsearch 9 answers it.
    reason = f"no such index [{index.strip('/').split('/')[0]}]"
    cause = {"type": "index_not_found_exception", "reason": reason, "index": index}
    return {"error": {"root_cause": [cause], **cause}, "status": 404}


def _search_response(hits=(), total=None, aggregations=None, suggest=None) -> dict:
    body = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(hits) if total is None else total, "relation": "eq"},
            "max_score": max((h.get("_score") or 0 for h in hits), default=None),
            "hits": list(hits),
        },
    }
    if aggregations is not None:
        body["aggregations"] = aggregations
    if suggest is not None:
        body["suggest"] = suggest
    return body


def _bulk_ok(request) -> dict:
    """A bulk answer with one item per action line, as the _bulk API gives it."""
    items = []
    lines = request["body"]
    i = 0
    while i < len(lines):
        ((op, meta),) = lines[i].items()
        i += 1 if op == "delete" else 2
        status = 200 if op == "delete" else 201
        result = "deleted" if op == "delete" else "created"
        items.append(
            {
                op: {
                    "_index": meta.get("_index", LIVE),
                    "_id": meta["_id"],
                    "_version": 1,
                    "result": result,
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "_seq_no": i,
                    "_primary_term": 1,
                    "status": status,
                }
            }
        )
    return {"took": 2, "errors": False, "items": items}


def _entry(n: int, title: str, **kw) -> Entry:
    facets = kw.pop("facets", {"cluster": ("cluj-it",), "type": ("practice",), "tag": ("health",)})
    return Entry(
        key=kw.pop("key", f"page:{n}"),
        page_id=n,
        type="practice",
        title=title,
        url=f"/p/{n}/",
        path=f"00010001{n:04d}",
        summary=kw.pop("summary", "A summary."),
        body=kw.pop("body", "Body text."),
        tags=("Health",),
        names="Cluj IT Cluster",
        facets=facets,
        date=kw.pop("date", datetime(2024, 5, 1, tzinfo=UTC)),
        display={"cluster": "Cluj IT Cluster"},
        labels={"cluster": {"cluj-it": "Cluj IT Cluster"}, "tag": {"health": "Health"}},
        **kw,
    )


@pytest.fixture
def fake():
    server = FakeElasticsearch()
    server.on("GET", f"/_alias/{ALIAS}", {LIVE: {"aliases": {ALIAS: {}}}})
    server.on("PUT", f"/{JOURNAL}", ACK)
    yield server
    server.close()


@pytest.fixture
def elastic_engine(fake):
    return ElasticEngine(fake.url, index_prefix="kbt", timeout=1.0)


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeStore:
    """Indices held in memory behind the fake server: enough of the bulk, scroll, settings and alias
    APIs to follow what a sequence of writes leaves where, instead of answering each request by hand."""

    def __init__(self, fake, live: dict[str, dict] | None = None):
        self.fake = fake
        self.indices: dict[str, dict[str, dict]] = {LIVE: dict(live or {})}
        self.aliases: dict[str, set[str]] = {ALIAS: {LIVE}}
        self.blocked: set[str] = set()
        fake.routes.clear()
        fake.on("GET", "/_alias/[^/]+", self._get_alias)
        fake.on("PUT", r"/kbt-[\w-]+", self._create)
        fake.on("PUT", r"/[\w,-]+/_settings", self._settings)
        fake.on("PUT", r"/[\w,-]+/_block/write", self._add_block)
        fake.on("PUT", "/_bulk", self._bulk)
        fake.on("POST", r"/[\w,-]+/_search", self._search)
        fake.on("POST", "/_search/scroll", {**_search_response([]), "_scroll_id": "s1"})
        fake.on("DELETE", "/_search/scroll", {"succeeded": True, "num_freed": 1})
        fake.on("POST", r"/[\w,-]+/_refresh", {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        fake.on("POST", "/_aliases", self._update_aliases)
        fake.on("DELETE", r"/[\w,-]+", self._delete)

    def resolve(self, name: str) -> list[str]:
        return sorted(self.aliases.get(name) or ({name} if name in self.indices else set()))

    def keys(self, name: str) -> set[str]:
        return {k for index in self.resolve(name) for k in self.indices[index]}

    def _get_alias(self, request):
        name = request["path"].rsplit("/", 1)[1]
        if not self.aliases.get(name):
            return Reply(404, _not_found(name))
        return {index: {"aliases": {name: {}}} for index in self.aliases[name]}

    def _create(self, request):
        name = request["path"][1:]
        if name in self.indices:
            cause = {"type": "resource_already_exists_exception", "reason": f"index [{name}] already exists"}
            return Reply(400, {"error": {"root_cause": [cause], **cause}, "status": 400})
        self.indices[name] = {}
        # Aliases in the create body are added with the index, in the same cluster state update.
        for alias in (request["body"] or {}).get("aliases", {}):
            self.aliases.setdefault(alias, set()).add(name)
        return {**ACK, "index": name}

    def _add_block(self, request):
        # PUT /<index>/_block/write, answered as Elasticsearch 9 documents the add index block API.
        names = [i for n in request["path"][1:].split("/")[0].split(",") for i in self.resolve(n)]
        if not names:
            return Reply(404, _not_found(request["path"]))
        self.blocked.update(names)
        return {**ACK, "indices": [{"name": name, "blocked": True} for name in names]}

    def _settings(self, request):
        names = [i for n in request["path"][1:].split("/")[0].split(",") for i in self.resolve(n)]
        on = request["body"]["index.blocks.write"]
        for name in names:
            (self.blocked.add if on else self.blocked.discard)(name)
        return {"acknowledged": True}

    def _bulk(self, request):
        items, lines, i = [], request["body"], 0
        while i < len(lines):
            ((op, meta),) = lines[i].items()
            source = lines[i + 1] if op != "delete" else None
            i += 1 if op == "delete" else 2
            (index,) = self.resolve(meta["_index"]) or [meta["_index"]]
            result = {"_index": index, "_id": meta["_id"]}
            if index in self.blocked:
                error = {
                    "type": "cluster_block_exception",
                    "reason": f"index [{index}] blocked by: [FORBIDDEN/8/index write (api)];",
                }
                items.append({op: {**result, "status": 403, "error": error}})
            elif op == "delete":
                found = self.indices.setdefault(index, {}).pop(meta["_id"], None)
                items.append(
                    {
                        op: {
                            **result,
                            "result": "deleted" if found else "not_found",
                            "status": 200 if found else 404,
                        }
                    }
                )
            else:
                self.indices.setdefault(index, {})[meta["_id"]] = source
                items.append({op: {**result, "result": "created", "status": 201}})
        errors = any("error" in next(iter(it.values())) for it in items)
        return {"took": 1, "errors": errors, "items": items}

    def _search(self, request):
        name = request["path"][1:].split("/")[0]
        indices = self.resolve(name)
        if not indices:
            return Reply(404, _not_found(name))
        body = request["body"] or {}
        docs = [(index, k, src) for index in indices for k, src in sorted(self.indices[index].items())]
        docs = [d for d in docs if _matches(body.get("query"), d[2])]
        if "aggs" in body:
            pages = sorted({src["page_id"] for _, _, src in docs})
            after = body["aggs"]["pages"]["composite"].get("after")
            buckets = [] if after else [{"key": {"page": p}, "doc_count": 1} for p in pages]
            agg = {"buckets": buckets, **({"after_key": buckets[-1]["key"]} if buckets else {})}
            return {**_search_response(), "aggregations": {"pages": agg}}
        hits = [
            {
                "_index": index,
                "_id": k,
                "_score": None,
                **({} if body.get("_source") is False else {"_source": src}),
            }
            for index, k, src in docs
        ]
        return {**_search_response(hits), "_scroll_id": "s1"}

    def _update_aliases(self, request):
        for action in request["body"]["actions"]:
            ((op, spec),) = action.items()
            members = self.aliases.setdefault(spec["alias"], set())
            (members.add if op == "add" else members.discard)(spec["index"])
        return {"acknowledged": True}

    def _delete(self, request):
        for name in request["path"][1:].split(","):
            self.indices.pop(name, None)
            self.blocked.discard(name)
            for members in self.aliases.values():
                members.discard(name)
        return {"acknowledged": True}


def _matches(query, src) -> bool:
    if not query:
        return True
    ((kind, spec),) = query.items()
    ((field, value),) = spec.items()
    if kind == "terms":
        return src.get(field) in value
    if kind == "range":
        return src.get(field) is not None and src[field] >= value["gte"]
    raise AssertionError(f"the fake store does not know {query}")


def _search_body(fake, elastic_engine, params, **query_kw) -> dict:
    fake.on("POST", f"/{ALIAS}/_search", _search_response())
    query, _ = parse(params)
    if query_kw:
        from dataclasses import replace

        query = replace(query, **query_kw)
    elastic_engine.search(query)
    return fake.sent("POST", f"/{ALIAS}/_search")[-1]["body"]


# -- the mapping -------------------------------------------------------------------------------


def test_mapping_declares_the_analysers_both_engines_agree_on():
    body = index_body()
    analysis = body["settings"]["analysis"]
    text = analysis["analyzer"]["kb_text"]
    assert text["tokenizer"] == "standard"
    assert text["char_filter"] == ["kb_cyrillic", "kb_latin_extra"]
    assert text["filter"][:3] == ["lowercase", "serbian_normalization", "asciifolding"]
    stemmer = analysis["filter"][text["filter"][3]]
    assert stemmer == {"type": "stemmer", "language": "english"}
    assert "kb_english_stemmer" not in analysis["analyzer"]["kb_folded"]["filter"]

    rules = analysis["char_filter"]["kb_cyrillic"]["mappings"]
    assert analysis["char_filter"]["kb_cyrillic"]["type"] == "mapping"
    parsed = dict(rule.split(" => ") for rule in rules)
    assert parsed == CYRILLIC_TO_LATIN
    assert parsed["Ђ"] == parsed["ђ"] == "dj" and parsed["щ"] == "sht"
    latin = dict(r.split(" => ") for r in analysis["char_filter"]["kb_latin_extra"]["mappings"])
    assert latin["Đ"] == latin["đ"] == "dj"


def test_mapping_fields_types():
    props = index_body()["mappings"]["properties"]
    for field in ("title", "summary", "body", "tags", "names"):
        assert props[field]["type"] == "text"
        assert props[field]["analyzer"] == "kb_text"
        assert props[field]["copy_to"] == "spell"
    assert props["title"]["fields"]["sort"] == {"type": "keyword", "normalizer": "kb_sort"}
    assert props["title"]["fields"]["complete"] == {"type": "search_as_you_type", "analyzer": "kb_folded"}
    assert props["spell"] == {"type": "text", "analyzer": "kb_shingle"}
    for facet in FACETS:
        assert props["facets"]["properties"][facet] == {"type": "keyword"}
        assert props["facet_keys"]["properties"][facet] == {"type": "keyword"}
    for field in ("key", "type", "path"):
        assert props[field] == {"type": "keyword"}
    assert props["page_id"] == {"type": "integer"}
    assert props["date"] == props["expires"] == {"type": "date"}
    assert props["display"] == {"type": "object", "enabled": False}
    assert props["document"] == {"type": "object", "enabled": False}


# -- request bodies --------------------------------------------------------------------------


def test_words_are_anded_across_boosted_fields(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "recycling Phones"})
    must = body["query"]["bool"]["must"]
    assert [m["multi_match"]["query"] for m in must] == ["recycling", "Phones"]
    for clause in must:
        mm = clause["multi_match"]
        assert mm["type"] == "cross_fields" and mm["operator"] == "and"
        assert mm["fields"] == list(FIELD_BOOSTS)
    boosts = {f.split("^")[0]: float(f.split("^")[1]) if "^" in f else 1.0 for f in FIELD_BOOSTS}
    assert boosts["title"] > boosts["summary"] == boosts["tags"] > boosts["names"] > boosts["body"]
    assert body["sort"][0] == "_score"
    assert body["track_total_hits"] is True
    assert (body["from"], body["size"]) == (0, 20)


EXPIRED = {"range": {"expires": {"lte": "now"}}}


@pytest.mark.parametrize(
    ("params", "query_kw"),
    [
        ({"q": "recycling -waste", "tag": ["health"]}, {}),
        ({"q": "recycling phones"}, {"match_any": True}),
        ({"q": ""}, {}),
    ],
)
def test_expired_entries_leave_the_match_set_so_counts_and_hits_agree(fake, elastic_engine, params, query_kw):
    body = _search_body(fake, elastic_engine, params, **query_kw)
    assert EXPIRED in body["query"]["bool"]["must_not"]
    # Not a post_filter: every facet aggregation counts over the query's match set.
    assert "expires" not in json.dumps(body.get("post_filter", {}))


def test_spelling_corrections_are_collated_against_visible_entries(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "telemedcine"}, within=("00010001",))
    collate = body["suggest"]["did_you_mean"]["phrase"]["collate"]
    assert collate["prune"] is False
    check = collate["query"]["source"]["bool"]
    assert check["must"][0]["multi_match"]["query"] == "{{suggestion}}"
    assert check["must_not"] == [EXPIRED]
    assert check["filter"] == [
        {"bool": {"should": [{"prefix": {"path": "00010001"}}], "minimum_should_match": 1}}
    ]


def test_any_words_mode_asks_for_at_least_one_word(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "recycling phones -textile"}, match_any=True)
    bool_query = body["query"]["bool"]
    assert "must" not in bool_query
    assert [m["multi_match"]["query"] for m in bool_query["should"]] == ["recycling", "phones"]
    assert bool_query["minimum_should_match"] == 1
    assert bool_query["must_not"][0]["multi_match"]["query"] == "textile"
    assert bool_query["must_not"][1:] == [EXPIRED]


def test_phrase_exclusion_and_prefix(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": '"circular economy" -textile tele*'})
    must = body["query"]["bool"]["must"]
    assert (
        must[0]["multi_match"]["type"] == "phrase" and must[0]["multi_match"]["query"] == "circular economy"
    )
    # The prefix is matched against the unstemmed subfields, boosted as their fields, or as a word.
    assert must[1]["bool"]["minimum_should_match"] == 1
    starts, word = (clause["multi_match"] for clause in must[1]["bool"]["should"])
    assert starts["type"] == "bool_prefix" and starts["query"] == "tele"
    assert starts["fields"] == [
        "title.exact^10",
        "summary.exact^4",
        "tags.exact^4",
        "names.exact^2",
        "body.exact",
    ]
    assert word["type"] == "cross_fields" and word["query"] == "tele" and word["fields"] == list(FIELD_BOOSTS)
    properties = index_body()["mappings"]["properties"]
    for field in ("title", "summary", "tags", "names", "body"):
        assert properties[field]["analyzer"] == "kb_text"
        assert properties[field]["fields"]["exact"] == {"type": "text", "analyzer": "kb_folded"}
    analysis = index_body()["settings"]["analysis"]["analyzer"]
    assert "kb_english_stemmer" in analysis["kb_text"]["filter"]
    assert "kb_english_stemmer" not in analysis["kb_folded"]["filter"]
    excluded, expired = body["query"]["bool"]["must_not"]
    assert expired == EXPIRED
    assert excluded["multi_match"]["query"] == "textile"
    assert "^" not in "".join(excluded["multi_match"]["fields"])


def test_only_exclusions_browse_everything_else_newest_first(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "-waste"})
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["query"]["bool"]["must_not"][0]["multi_match"]["query"] == "waste"
    assert body["sort"][0] == {"date": {"order": "desc", "missing": "_last"}}
    assert "highlight" not in body and "suggest" not in body


def test_misspelt_words_ask_the_phrase_suggester_with_fuzzy_candidates(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": 'telemedcine "open data" porta*'})
    suggest = body["suggest"]["did_you_mean"]
    # Phrases and prefixes are not corrected, as in the embedded engine.
    assert suggest["text"] == "telemedcine"
    phrase = suggest["phrase"]
    assert phrase["field"] == "spell"
    (generator,) = phrase["direct_generator"]
    assert generator["suggest_mode"] == "missing"
    assert generator["max_edits"] == 2


@pytest.mark.parametrize(
    "filters",
    [
        {"tag": ["health"]},
        {"tag": ["health", "waste"], "country": ["ro"]},
        {"industry": ["J"], "cluster": ["cluj-it"], "year": ["2024"], "type": ["practice"]},
    ],
)
def test_facet_filters_go_to_post_filter_and_each_facet_counts_under_the_others(
    fake, elastic_engine, filters
):
    body = _search_body(fake, elastic_engine, {"q": "data", **filters})
    query, _ = parse({"q": "data", **filters})
    expected = {f: list(v) for f, v in query.filters.items()}
    post = body["post_filter"]["bool"]["filter"]
    assert {next(iter(c["terms"])).split(".")[1]: next(iter(c["terms"].values())) for c in post} == expected
    # The query itself carries no facet filter: it defines the match set every facet counts over.
    assert "facets." not in json.dumps(body["query"])
    for facet in FACETS:
        agg = body["aggs"][f"facet_{facet}"]
        applied = {
            next(iter(c["terms"])).split(".")[1]: next(iter(c["terms"].values()))
            for c in agg["filter"]["bool"].get("filter", [])
        }
        assert applied == {f: v for f, v in expected.items() if f != facet}
        assert agg["aggs"]["values"]["terms"]["field"] == f"facet_keys.{facet}"
        assert agg["aggs"]["values"]["terms"]["size"] == FACET_CAP
        if facet in expected:
            assert agg["aggs"]["selected"]["terms"]["include"] == expected[facet]
            assert agg["aggs"]["selected"]["terms"]["field"] == f"facets.{facet}"
        else:
            assert "selected" not in agg["aggs"]
    assert set(body["aggs"]["selected_labels"]["aggs"]) == set(expected)


def test_no_facets_asked_means_no_aggregations(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "data", "tag": ["health"]}, with_facets=False)
    assert "aggs" not in body
    assert body["post_filter"]["bool"]["filter"] == [{"terms": {"facets.tag": ["health"]}}]


def test_within_restricts_the_match_set_by_path_prefix(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "data"}, within=("00010001", "00010003"))
    (scope,) = body["query"]["bool"]["filter"]
    assert scope["bool"]["should"] == [{"prefix": {"path": "00010001"}}, {"prefix": {"path": "00010003"}}]
    assert scope["bool"]["minimum_should_match"] == 1


@pytest.mark.parametrize("params", [{}, {"q": "-waste"}, {"industry": ["J"]}])
def test_a_browse_leaves_document_parts_out_of_the_match_set(fake, elastic_engine, params):
    body = _search_body(fake, elastic_engine, params)
    # In the query, so hits, total and every facet count leave them out alike.
    assert {"term": {"part": False}} in body["query"]["bool"]["filter"]
    assert "part" not in json.dumps(body.get("post_filter", {}))


def test_words_reach_into_documents(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "data"})
    assert '"part"' not in json.dumps(body["query"])


@pytest.mark.parametrize(
    ("params", "first"),
    [
        ({"q": "data"}, "_score"),
        ({"q": "data", "sort": "newest"}, {"date": {"order": "desc", "missing": "_last"}}),
        ({"q": "data", "sort": "title"}, {"title.sort": "asc"}),
        ({}, {"date": {"order": "desc", "missing": "_last"}}),
    ],
)
def test_sorts_end_on_a_unique_key_so_pages_never_overlap(fake, elastic_engine, params, first):
    body = _search_body(fake, elastic_engine, params)
    assert body["sort"][0] == first
    assert body["sort"][-1] == {"key": "asc"}


def test_page_and_per_page_become_from_and_size(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "data", "page": "3"}, per_page=7)
    assert (body["from"], body["size"]) == (14, 7)


def test_highlight_marks_and_html_escapes(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "recycling -waste"})
    hl = body["highlight"]
    assert hl["encoder"] == "html"
    assert (hl["pre_tags"], hl["post_tags"]) == (["<mark>"], ["</mark>"])
    assert hl["fields"]["title"]["number_of_fragments"] == 0
    assert set(hl["fields"]) == {"title", "summary", "body"}
    # Excluded words are never marked.
    assert "waste" not in json.dumps(hl["highlight_query"])
    off = _search_body(fake, elastic_engine, {"q": "recycling"}, with_highlights=False)
    assert "highlight" not in off


# -- reading responses --------------------------------------------------------------------


def _source(n, title, **extra):
    return {
        "key": f"page:{n}",
        "page_id": n,
        "type": "practice",
        "path": f"00010001{n:04d}",
        "part": False,
        "url": f"/p/{n}/",
        "title": title,
        "summary": "Collecting <old> phones & tablets.",
        "body": "",
        "display": {"cluster": "Cluj IT Cluster"},
        "document": None,
        **extra,
    }


def test_hits_highlights_total_and_documents_are_read(fake, elastic_engine):
    part = {"document_id": 77, "filename": "s.pdf", "page": 3, "unit": "page", "url": "/d/77#page=3"}
    hits = [
        {
            "_index": LIVE,
            "_id": "page:3",
            "_score": 7.5,
            "_source": _source(3, "Recycling <b>old</b> phones"),
            "highlight": {
                "title": ["<mark>Recycling</mark> &lt;b&gt;old&lt;&#x2F;b&gt; phones"],
                "body": ["parts go back into <mark>recycling</mark>"],
            },
            "sort": [7.5, 1714521600000, "page:3"],
        },
        {
            "_index": LIVE,
            "_id": "doc:10:77:3",
            "_score": 2.0,
            "_source": {**_source(10, "Slides"), "key": "doc:10:77:3", "part": True, "document": part},
            "sort": [2.0, 1714521600000, "doc:10:77:3"],
        },
    ]
    fake.on("POST", f"/{ALIAS}/_search", _search_response(hits, total=41))
    query, _ = parse({"q": "recycling"})
    results = elastic_engine.search(query)
    assert results.total == 41
    first, second = results.hits
    assert (first.key, first.page_id, first.score) == ("page:3", 3, 7.5)
    assert first.title_html == "<mark>Recycling</mark> &lt;b&gt;old&lt;&#x2F;b&gt; phones"
    # Body highlight used when the summary has none.
    assert first.snippet_html == "parts go back into <mark>recycling</mark>"
    assert first.display == {"cluster": "Cluj IT Cluster"}
    # No highlight at all: the original, escaped.
    assert second.title_html == "Slides"
    assert second.snippet_html == "Collecting &lt;old&gt; phones &amp; tablets."
    assert second.document == DocumentPart(77, "s.pdf", 3, "page", "/d/77#page=3")


def test_field_sorted_hits_have_null_score(fake, elastic_engine):
    hit = {
        "_index": LIVE,
        "_id": "page:1",
        "_score": None,
        "_source": _source(1, "A"),
        "sort": ["a", "page:1"],
    }
    fake.on("POST", f"/{ALIAS}/_search", _search_response([hit]))
    query, _ = parse({"q": "a", "sort": "title"})
    assert elastic_engine.search(query).hits[0].score == 0.0


def _buckets(facet, pairs):
    return [{"key": facet_key(v, label), "doc_count": n} for v, label, n in pairs]


def test_aggregations_become_disjunctive_facets_with_labels_and_selected_values(fake, elastic_engine):
    aggs = {
        f"facet_{f}": {
            "doc_count": 0,
            "values": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []},
        }
        for f in FACETS
    }
    aggs["facet_cluster"]["values"]["buckets"] = _buckets(
        "cluster",
        [
            ("cluj-it", "Cluj IT Cluster", 4),
            ("vojvodina-ict", "Vojvodina ICT Cluster", 4),
            ("foundation-ict", "Foundation ICT Cluster", 9),
        ],
    )
    aggs["facet_tag"]["values"]["buckets"] = _buckets("tag", [("health", "Health", 3)])
    aggs["facet_tag"]["selected"] = {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": 0,
        "buckets": [{"key": "health", "doc_count": 3}],
    }
    aggs["selected_labels"] = {
        "doc_count": 11,
        "tag": {"doc_count": 2, "keys": {"buckets": _buckets("tag", [("gone-tag", "Gone tag", 2)])}},
    }
    fake.on("POST", f"/{ALIAS}/_search", _search_response([], total=0, aggregations=aggs))
    query, _ = parse({"q": "x", "tag": ["health", "gone-tag", "never-seen"]})
    facets = elastic_engine.search(query).facets
    assert set(facets) == set(FACETS)
    # Count desc, then label: ties broken by the label, not the value.
    assert [(c.value, c.count, c.label) for c in facets["cluster"]] == [
        ("foundation-ict", 9, "Foundation ICT Cluster"),
        ("cluj-it", 4, "Cluj IT Cluster"),
        ("vojvodina-ict", 4, "Vojvodina ICT Cluster"),
    ]
    tags = {c.value: c for c in facets["tag"]}
    assert (tags["health"].count, tags["health"].selected, tags["health"].label) == (3, True, "Health")
    # Selected values are always listed; a value still on some entry keeps its label.
    assert (tags["gone-tag"].count, tags["gone-tag"].selected, tags["gone-tag"].label) == (
        0,
        True,
        "Gone tag",
    )
    assert (tags["never-seen"].count, tags["never-seen"].label) == (0, "never-seen")


def test_long_facets_are_capped_but_keep_selected_values(fake, elastic_engine):
    aggs = {f"facet_{f}": {"doc_count": 0, "values": {"buckets": []}} for f in FACETS}
    aggs["facet_tag"]["values"]["buckets"] = _buckets(
        "tag", [(f"t{i:04d}", f"T{i:04d}", FACET_CAP + 100 - i) for i in range(FACET_CAP + 5)]
    )
    aggs["facet_tag"]["selected"] = {"buckets": [{"key": "rare", "doc_count": 1}]}
    aggs["selected_labels"] = {"tag": {"keys": {"buckets": _buckets("tag", [("rare", "Rare", 1)])}}}
    fake.on("POST", f"/{ALIAS}/_search", _search_response(aggregations=aggs))
    query, _ = parse({"q": "x", "tag": ["rare"]})
    tags = elastic_engine.search(query).facets["tag"]
    assert len(tags) == FACET_CAP + 1
    assert tags[-1].value == "rare" and tags[-1].count == 1 and tags[-1].selected


@pytest.mark.parametrize(
    ("q", "option", "expected"),
    [
        ("telemedcine platform", "telemedicine platform", "telemedicine platform"),
        ('Recyclng "old phones" -waste', "recycling", 'recycling "old phones" -waste'),
        ("telemedicine platform", None, None),
        ("e-commerce tool", "e commerce tool", None),
        ("отпад", "opted", None),
        ("rurla clinics", "rural clinics", "rural clinics"),
    ],
)
def test_phrase_suggestion_becomes_the_corrected_query_text(fake, elastic_engine, q, option, expected):
    words = [w for w in q.split() if not w.startswith(("-", '"')) and not w.endswith('"')]
    entry = {"text": " ".join(words), "offset": 0, "length": len(" ".join(words)), "options": []}
    if option:
        entry["options"] = [{"text": option, "score": 0.31}]
    fake.on("POST", f"/{ALIAS}/_search", _search_response(suggest={"did_you_mean": [entry]}))
    query, _ = parse({"q": q})
    assert elastic_engine.search(query).correction == expected


def test_missing_index_searches_as_empty(fake, elastic_engine):
    query, _ = parse({"q": "x", "tag": ["health"]})
    results = elastic_engine.search(query)
    assert results.total == 0 and results.hits == []
    assert [(c.value, c.count, c.selected) for c in results.facets["tag"]] == [("health", 0, True)]


def test_suggest_asks_titles_and_facet_labels_and_reads_them(fake, elastic_engine):
    visible = {
        "doc_count": 9,
        "tag": {"buckets": _buckets("tag", [("smart-city", "Smart city", 2)])},
        "cluster": {"buckets": []},
        "industry": {"buckets": []},
    }
    aggs = {"labels": {"doc_count": 12, "visible": visible}}
    hits = [
        {"_index": LIVE, "_id": f"page:{n}", "_score": 1.0, "_source": {"title": t, "url": f"/p/{n}/"}}
        for n, t in [(4, "Smart city sensors"), (5, "Smart city sensors"), (6, "Smarter grids")]
    ]
    fake.on("POST", f"/{ALIAS}/_search", _search_response(hits, aggregations=aggs))
    got = elastic_engine.autocomplete("Smart", limit=4, within=("0001",))
    assert [(s.kind, s.text, s.url, s.value) for s in got] == [
        ("tag", "Smart city", "", "smart-city"),
        ("title", "Smart city sensors", "/p/4/", ""),
        ("title", "Smarter grids", "/p/6/", ""),
    ]
    body = fake.requests[-1]["body"]
    query = body["query"]["bool"]
    assert query["must"][0]["multi_match"]["type"] == "bool_prefix"
    assert "title.complete._2gram" in query["must"][0]["multi_match"]["fields"]
    assert query["filter"][0] == {"term": {"part": False}}
    assert query["must_not"] == [EXPIRED]
    # Labels count over the site's visible entries, whether or not some title matched.
    assert body["aggs"]["labels"]["global"] == {}
    visible = body["aggs"]["labels"]["aggs"]["visible"]
    scope = {"bool": {"should": [{"prefix": {"path": "0001"}}], "minimum_should_match": 1}}
    assert visible["filter"] == {"bool": {"must_not": [EXPIRED], "filter": [scope]}}
    assert query["filter"][1:] == [scope]
    include = visible["aggs"]["tag"]["terms"]["include"]
    assert re.fullmatch(include, facet_key("smart-city", "Smart city"))
    assert re.fullmatch(include, facet_key("x", "The SMART way"))
    assert not re.fullmatch(include, facet_key("x", "Outsmart"))
    # Cyrillic typed: folded before it is matched against folded labels.
    elastic_engine.autocomplete("нови", limit=4)
    include = fake.requests[-1]["body"]["aggs"]["labels"]["aggs"]["visible"]["aggs"]["cluster"]["terms"][
        "include"
    ]
    assert re.fullmatch(include, facet_key("ns", "Нови Сад Cluster"))
    assert SEP not in "".join(include.split(SEP)[1:2])


def test_suggested_labels_are_ordered_by_entries_across_facets_as_the_embedded_engine(fake, elastic_engine):
    visible = {
        "doc_count": 30,
        "tag": {"buckets": _buckets("tag", [("agritech", "Agritech", 2)])},
        "cluster": {"buckets": _buckets("cluster", [("agri-cluster", "Agri Cluster", 7)])},
        "industry": {
            "buckets": _buckets(
                "industry", [("A", "Agriculture, forestry and fishing", 2), ("01", "Crop", 5)]
            )
        },
    }
    aggs = {"labels": {"doc_count": 30, "visible": visible}}
    hit = {
        "_index": LIVE,
        "_id": "page:1",
        "_score": 1.0,
        "_source": {"title": "Agri drones", "url": "/p/1/"},
    }
    fake.on("POST", f"/{ALIAS}/_search", _search_response([hit], aggregations=aggs))
    got = elastic_engine.autocomplete("agri", limit=4)
    # Most entries first, then by label; labels take half the list, or more when titles leave room.
    assert [(s.kind, s.value) for s in got] == [
        ("cluster", "agri-cluster"),
        ("industry", "01"),
        ("industry", "A"),  # ties by label: "Agriculture..." before "Agritech"
        ("title", ""),
    ]


def test_selected_labels_regex_matches_exact_values_only(fake, elastic_engine):
    body = _search_body(fake, elastic_engine, {"q": "x", "cluster": ["cluj-it"]})
    include = body["aggs"]["selected_labels"]["aggs"]["cluster"]["aggs"]["keys"]["terms"]["include"]
    assert re.fullmatch(include, facet_key("cluj-it", "Cluj IT Cluster"))
    assert not re.fullmatch(include, facet_key("cluj-it-2", "Cluj IT Cluster 2"))


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        (429, "es_rejected_execution_exception", "rejected execution of coordinating operation"),
        (503, "search_phase_execution_exception", "all shards failed"),
    ],
)
def test_overload_and_server_failure_mean_unavailable(fake, elastic_engine, status, kind, reason):
    cause = {"type": kind, "reason": reason}
    body = {"error": {"root_cause": [cause], **cause}, "status": status}
    fake.on("POST", f"/{ALIAS}/_search", body, status=status)
    query, _ = parse({"q": "x"})
    with pytest.raises(EngineUnavailable, match=str(status)):
        elastic_engine.search(query)


def test_a_bad_request_is_a_bug_not_an_outage(fake, elastic_engine):
    from elasticsearch import BadRequestError

    cause = {"type": "parsing_exception", "reason": "unknown query [multi_matc]"}
    fake.on(
        "POST", f"/{ALIAS}/_search", {"error": {"root_cause": [cause], **cause}, "status": 400}, status=400
    )
    query, _ = parse({"q": "x"})
    with pytest.raises(BadRequestError):
        elastic_engine.search(query)


def test_timeout_means_unavailable_within_the_timeout(fake):
    elastic_engine = ElasticEngine(fake.url, index_prefix="kbt", timeout=0.3)
    fake.on("POST", f"/{ALIAS}/_search", _search_response(), delay=2.0)
    query, _ = parse({"q": "x"})
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="in time"):
        elastic_engine.search(query)
    assert time.monotonic() - started < 1.5


def test_nothing_listening_means_unavailable_for_every_operation():
    elastic_engine = ElasticEngine(_dead_url(), index_prefix="kbt", timeout=0.5)
    query, _ = parse({"q": "x"})
    for call in (
        lambda: elastic_engine.search(query),
        lambda: elastic_engine.autocomplete("sm"),
        lambda: elastic_engine.index([_entry(1, "A")]),
        lambda: elastic_engine.remove_pages([1]),
        elastic_engine.count,
    ):
        with pytest.raises(EngineUnavailable):
            call()
    health = elastic_engine.health()
    assert health["reachable"] is False and health["error"]


# -- writing --------------------------------------------------------------------------------------


def test_upsert_sends_index_actions_with_the_stored_source(fake, elastic_engine):
    fake.on("PUT", "/_bulk", _bulk_ok)
    part = DocumentPart(77, "slides.pdf", 3, "page", "/d/77#page=3")
    entries = [
        _entry(
            1,
            "Telemedicine",
            facets={"tag": ("health",), "type": ("practice",)},
            expires=datetime(2026, 9, 30, 12, tzinfo=UTC),
        ),
        _entry(1, "Slide 3", key="doc:1:77:3", document=part, date=None),
    ]
    assert elastic_engine.index(entries) == 2
    (bulk,) = fake.sent("PUT", "/_bulk")
    assert bulk["params"]["refresh"] == "true"
    journal, stamp, *lines = bulk["body"]
    # The page is journaled in the same bulk, for a rebuild running meanwhile to catch up on.
    assert journal == {"index": {"_index": JOURNAL, "_id": "1"}}
    assert stamp["page_id"] == 1 and datetime.fromisoformat(stamp["at"]).tzinfo is not None
    assert lines[0] == {"index": {"_index": ALIAS, "_id": "page:1"}}
    src = lines[1]
    assert src["title"] == "Telemedicine" and src["page_id"] == 1 and src["part"] is False
    assert src["facets"] == {"tag": ["health"], "type": ["practice"]}
    assert src["facet_keys"]["tag"] == [f"health{SEP}Health{SEP}health"]
    assert src["date"] == "2024-05-01T00:00:00+00:00"
    assert src["expires"] == "2026-09-30T12:00:00+00:00"
    assert lines[2] == {"index": {"_index": ALIAS, "_id": "doc:1:77:3"}}
    assert lines[3]["part"] is True and lines[3]["date"] is None and lines[3]["expires"] is None
    assert lines[3]["document"] == {
        "document_id": 77,
        "filename": "slides.pdf",
        "page": 3,
        "unit": "page",
        "url": "/d/77#page=3",
    }


def test_first_upsert_creates_the_journal_and_a_versioned_index_behind_the_alias(fake, elastic_engine):
    store = FakeStore(fake)
    store.indices.clear()
    store.aliases.clear()
    elastic_engine.index([_entry(1, "A")])
    journal, create = fake.sent("PUT", "/kbt-.*")
    assert journal["path"] == f"/{JOURNAL}"
    assert journal["body"]["mappings"]["properties"] == {
        "page_id": {"type": "integer"},
        "at": {"type": "date"},
    }
    # Created with its alias in one call, under one fixed name.
    assert create["path"] == f"/{ALIAS}-first"
    assert create["body"] == json.loads(json.dumps({**index_body(), "aliases": {ALIAS: {}}}))
    assert fake.sent("POST", "/_aliases") == []
    assert store.keys(ALIAS) == {"page:1"} and set(store.indices[JOURNAL]) == {"1"}
    # A second engine (another process) finds both already there.
    ElasticEngine(fake.url, index_prefix="kbt", timeout=1.0).index([_entry(2, "B")])
    assert len(fake.sent("PUT", f"/{ALIAS}-[^/]*")) == 1
    assert store.keys(ALIAS) == {"page:1", "page:2"}


def test_two_processes_creating_the_first_index_at_once_leave_the_alias_on_one(fake):
    store = FakeStore(fake)
    store.indices.clear()
    store.aliases.clear()
    one, two = (ElasticEngine(fake.url, index_prefix="kbt", timeout=1.0) for _ in range(2))
    # Both look before either creates: neither sees an alias.
    real = ElasticEngine._aliased_indices
    looked = threading.Barrier(2, timeout=5)

    def slow_first_look(self):
        found = real(self)
        if not self._ready and not getattr(self, "_looked", False):
            self._looked = True
            looked.wait()
        return found

    import unittest.mock

    with unittest.mock.patch.object(ElasticEngine, "_aliased_indices", slow_first_look):
        threads = [
            threading.Thread(target=e.index, args=([_entry(n, f"P{n}")],)) for n, e in ((1, one), (2, two))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert store.aliases[ALIAS] == {f"{ALIAS}-first"}
    assert store.keys(ALIAS) == {"page:1", "page:2"}
    assert len(fake.sent("PUT", f"/{ALIAS}-first")) == 2  # one created it, the other was told it exists


def test_a_first_index_left_without_its_alias_is_adopted(fake, elastic_engine):
    store = FakeStore(fake)
    store.aliases.clear()
    store.indices = {f"{ALIAS}-first": {}}
    elastic_engine.index([_entry(1, "A")])
    assert store.aliases[ALIAS] == {f"{ALIAS}-first"} and store.keys(ALIAS) == {"page:1"}


def test_a_block_the_cluster_does_not_confirm_fails_the_rebuild_and_keeps_the_live_index(
    fake, elastic_engine
):
    store = FakeStore(fake, _page_docs(1, "One"))
    fake.on("PUT", rf"/{LIVE}/_block/write", {**ACK, "indices": [{"name": LIVE, "blocked": False}]})
    with pytest.raises(EngineUnavailable, match="did not block writes"):
        elastic_engine.rebuild([_entry(1, "One")], expected_page_ids={1})
    assert store.aliases[ALIAS] == {LIVE} and set(store.indices) == {LIVE, JOURNAL}


def _page_docs(page_id: int, title: str, parts: int = 0) -> dict[str, dict]:
    entries = [_entry(page_id, title)] + [
        _entry(page_id, f"{title}, slide {n}", key=f"doc:{page_id}:34:{n}") for n in range(1, parts + 1)
    ]
    return {e.key: json.loads(json.dumps(to_source(e))) for e in entries}


def _journal_line(page_id: int, line: dict) -> bool:
    return line == {"index": {"_index": JOURNAL, "_id": str(page_id)}}


def test_remove_pages_deletes_every_entry_of_the_page_documents_included(fake, elastic_engine):
    store = FakeStore(fake, {**_page_docs(12, "Twelve", parts=2), **_page_docs(13, "Thirteen")})
    assert elastic_engine.remove_pages([12]) == 3
    assert store.keys(ALIAS) == {"page:13"}
    (scan,) = fake.sent("POST", f"/{ALIAS}/_search")
    assert scan["body"]["query"] == {"terms": {"page_id": [12]}}
    (bulk,) = fake.sent("PUT", "/_bulk")
    assert bulk["params"]["refresh"] == "true"
    assert _journal_line(12, bulk["body"][0])
    assert bulk["body"][2:] == [
        {"delete": {"_index": ALIAS, "_id": k}} for k in ("doc:12:34:1", "doc:12:34:2", "page:12")
    ]


def test_replace_pages_is_one_bulk_and_one_refresh(fake, elastic_engine):
    store = FakeStore(fake, _page_docs(12, "Old title", parts=2))
    store.aliases[ALIAS] = {LIVE}
    new = [_entry(12, "New title"), _entry(12, "New title, slide 1", key="doc:12:34:1")]
    assert elastic_engine.replace_pages([12], new) == 3
    # Indexed and stale keys deleted together: no search between two refreshes sees the page missing.
    (bulk,) = fake.sent("PUT", "/_bulk")
    assert bulk["params"]["refresh"] == "true"
    assert _journal_line(12, bulk["body"][0])
    ops = [
        next(iter(line.items()))
        for line in bulk["body"][2:]
        if len(line) == 1 and "_index" in next(iter(line.values()))
    ]
    assert [(op, meta["_id"]) for op, meta in ops] == [
        ("index", "page:12"),
        ("index", "doc:12:34:1"),
        ("delete", "doc:12:34:2"),
    ]
    assert fake.sent("POST", r"/.*/_refresh") == []
    assert store.keys(ALIAS) == {"page:12", "doc:12:34:1"}
    assert store.indices[LIVE]["page:12"]["title"] == "New title"


def test_rejected_bulk_items_are_unavailable_so_the_update_is_queued(fake, elastic_engine):
    def rejected(request):
        answer = _bulk_ok(request)
        answer["errors"] = True
        answer["items"][-1]["index"].update(
            status=429, error={"type": "es_rejected_execution_exception", "reason": "queue full"}
        )
        return answer

    fake.on("PUT", "/_bulk", rejected)
    with pytest.raises(EngineUnavailable):
        elastic_engine.index([_entry(1, "A")])


def test_a_write_refused_by_a_rebuilds_block_is_unavailable_not_a_bad_write(fake, elastic_engine):
    store = FakeStore(fake, _page_docs(1, "A"))
    store.blocked.add(LIVE)
    with pytest.raises(EngineUnavailable, match="refused"):
        elastic_engine.index([_entry(1, "B")])
    assert store.indices[LIVE]["page:1"]["title"] == "A"


def test_rebuild_fills_a_new_index_in_chunks_then_swaps_the_alias_in_one_call(
    fake, elastic_engine, monkeypatch
):
    monkeypatch.setattr("search.engines.elastic.client.BULK_CHUNK", 2)
    store = FakeStore(fake, _page_docs(1, "Old"))
    seen = []

    def progress(entries):
        for e in entries:
            seen.append(e.key)
            yield e

    written = elastic_engine.rebuild(
        progress([_entry(n, f"T{n}") for n in (1, 2, 3)]), expected_page_ids={1, 2, 3}
    )
    assert written == 3 and seen == ["page:1", "page:2", "page:3"]
    (create,) = fake.sent("PUT", f"/{ALIAS}-[^/]*")
    assert create["body"] == json.loads(json.dumps(index_body()))
    new = create["path"][1:]
    bulks = fake.sent("PUT", "/_bulk")
    assert [len(b["body"]) // 2 for b in bulks] == [2, 1]
    assert all(line["index"]["_index"] == new for b in bulks for line in b["body"][::2])
    assert all("refresh" not in b["params"] for b in bulks)
    # The live index takes no write from the catch-up on: it is blocked (the add-block API, which
    # waits for writes in flight), then replaced.
    (block,) = fake.sent("PUT", f"/{LIVE}/_block/write")
    assert block["body"] is None
    assert fake.sent("PUT", r"/.*/_settings") == []
    (swap,) = fake.sent("POST", "/_aliases")
    assert swap["body"]["actions"] == [
        {"add": {"index": new, "alias": ALIAS}},
        {"remove": {"index": LIVE, "alias": ALIAS}},
    ]
    (delete,) = fake.sent("DELETE", f"/{ALIAS}-.*")
    assert delete["path"] == f"/{LIVE}"
    order = [(r["method"], r["path"]) for r in fake.requests]
    assert order.index(("PUT", f"/{LIVE}/_block/write")) < order.index(("POST", "/_aliases"))
    assert order.index(("POST", "/_aliases")) < order.index(("DELETE", f"/{LIVE}"))
    assert store.aliases[ALIAS] == {new} and store.keys(ALIAS) == {"page:1", "page:2", "page:3"}


def test_updates_made_while_a_rebuild_streams_reach_the_new_index(fake, elastic_engine):
    store = FakeStore(fake, {**_page_docs(1, "One"), **_page_docs(2, "Two", parts=1)})
    # Another process's engine: it shares nothing with the rebuilding one but the cluster.
    publisher = ElasticEngine(fake.url, index_prefix="kbt", timeout=1.0)

    def stream():
        yield _entry(1, "One")
        yield _entry(2, "Two")
        yield _entry(2, "Two, slide 1", key="doc:2:34:1")
        # Read by the rebuild already: page 2 is unpublished, page 7 published, page 1 edited.
        publisher.remove_pages([2])
        publisher.index([_entry(7, "Published during the rebuild")])
        publisher.replace_pages([1], [_entry(1, "One, edited")])
        yield _entry(3, "Three")

    elastic_engine.rebuild(stream(), expected_page_ids={1, 2, 3})
    (new,) = store.aliases[ALIAS]
    assert new != LIVE and LIVE not in store.indices
    assert store.keys(ALIAS) == {"page:1", "page:3", "page:7"}
    assert store.indices[new]["page:7"]["title"] == "Published during the rebuild"
    assert store.indices[new]["page:1"]["title"] == "One, edited"
    assert store.blocked == set()


def test_a_rebuild_that_fails_at_the_swap_unblocks_the_live_index(fake, elastic_engine):
    store = FakeStore(fake, _page_docs(1, "One"))
    overloaded = {"error": {"type": "es_rejected_execution_exception", "reason": "busy"}, "status": 429}
    fake.on("POST", "/_aliases", overloaded, status=429)
    with pytest.raises(EngineUnavailable):
        elastic_engine.rebuild([_entry(1, "One")], expected_page_ids={1})
    assert store.aliases[ALIAS] == {LIVE} and store.blocked == set()
    assert set(store.indices) == {LIVE, JOURNAL}


def test_rebuild_that_misses_live_pages_keeps_the_old_index(fake, elastic_engine):
    store = FakeStore(fake, _page_docs(1, "One"))
    with pytest.raises(IndexMismatch, match="1 missing"):
        elastic_engine.rebuild([_entry(n, f"T{n}") for n in (1, 2)], expected_page_ids={1, 2, 3})
    assert fake.sent("POST", "/_aliases") == []
    assert fake.sent("PUT", r"/.*/_block/write") == fake.sent("PUT", r"/.*/_settings") == []
    (delete,) = fake.sent("DELETE", f"/{ALIAS}-.*")
    assert delete["path"] != f"/{LIVE}" and delete["path"].startswith(f"/{ALIAS}-")
    assert store.aliases[ALIAS] == {LIVE} and set(store.indices) == {LIVE, JOURNAL}


def test_count_page_ids_and_health(fake, elastic_engine):
    fake.on("POST", f"/{ALIAS}/_count", {"count": 5, "_shards": {"total": 1, "successful": 1}})
    pages = [[{"key": {"page": p}, "doc_count": 1} for p in chunk] for chunk in ([1, 2], [9])]

    def composite(request):
        after = request["body"]["aggs"]["pages"]["composite"].get("after")
        chunk = pages[0] if after is None else pages[1] if after == {"page": 2} else []
        agg = {"buckets": chunk}
        if chunk:
            agg["after_key"] = chunk[-1]["key"]
        return {**_search_response(), "aggregations": {"pages": agg}}

    fake.on("POST", f"/{ALIAS}/_search", composite)
    assert elastic_engine.count() == 5
    assert elastic_engine.page_ids() == {1, 2, 9}
    health = elastic_engine.health()
    assert health == {"reachable": True, "index": LIVE, "entries": 5, "pages": 3, "error": ""}


# -- publishing events -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def elastic_kb_data(shared_db):
    from tests.search.test_visibility import build_kb

    return build_kb()


@pytest.fixture
def published(elastic_kb_data, db, fake, settings, run_on_commit):
    """The small knowledge base (built once per module), rebuilt into the fake cluster through the service,
    Elasticsearch selected."""
    from search import service

    store = FakeStore(fake)
    settings.ELASTICSEARCH_URL = fake.url
    settings.ELASTICSEARCH_INDEX_PREFIX = "kbt"
    service.reset_engine()
    tree = copy.deepcopy(elastic_kb_data)
    service.rebuild(progress=False)
    fake.requests.clear()
    tree["store"] = store
    tree["commit"] = run_on_commit
    yield tree
    service.reset_engine()


def _bulks(fake) -> list[list[dict]]:
    """The NDJSON lines of every bulk sent, the journal's clock reading left out."""
    out = []
    for request in fake.sent("PUT", "/_bulk"):
        assert request["params"]["refresh"] == "true"
        out.append([{**line, "at": "…"} if "at" in line else line for line in request["body"]])
    return out


def _journaled(page_id: int) -> list[dict]:
    return [{"index": {"_index": JOURNAL, "_id": str(page_id)}}, {"page_id": page_id, "at": "…"}]


def _indexed(page_id: int) -> list[dict]:
    from search import documents

    lines = []
    for entry in documents.iter_entries([page_id]):
        lines += [{"index": {"_index": ALIAS, "_id": entry.key}}, json.loads(json.dumps(to_source(entry)))]
    assert lines, f"page {page_id} has no entries"
    return lines


def test_the_rebuild_through_the_service_swaps_in_exactly_the_live_public_pages(published):
    store = published["store"]
    (new,) = store.aliases[ALIAS]
    assert new != LIVE
    expected = {published[k].pk for k in ("telemedicine", "recycling", "event", "presentation")}
    assert {src["page_id"] for src in store.indices[new].values()} == expected


def test_publishing_a_page_sends_its_entries_in_one_bulk(published, fake):
    from practices.factories import PracticePageFactory

    with published["commit"]():
        page = PracticePageFactory(parent=published["cluj"], title="Drone mapping", slug="drones", live=False)
        page.save_revision().publish()
    assert _bulks(fake) == [_journaled(page.pk) + _indexed(page.pk)]
    assert (
        published["store"].indices[next(iter(published["store"].aliases[ALIAS]))][f"page:{page.pk}"]["title"]
        == "Drone mapping"
    )


def test_unpublishing_a_page_deletes_its_entries(published, fake):
    page = published["telemedicine"]
    with published["commit"]():
        page.unpublish()
    assert _bulks(fake) == [_journaled(page.pk) + [{"delete": {"_index": ALIAS, "_id": f"page:{page.pk}"}}]]
    assert f"page:{page.pk}" not in published["store"].keys(ALIAS)


def test_deleting_a_live_page_deletes_its_entries_once(published, fake):
    from wagtail.models import Page

    page = published["recycling"]
    with published["commit"]():
        Page.objects.get(pk=page.pk).delete()
    # Unpublished, then deleted: the second removal finds nothing left and only journals the page.
    assert _bulks(fake) == [
        _journaled(page.pk) + [{"delete": {"_index": ALIAS, "_id": f"page:{page.pk}"}}],
        _journaled(page.pk),
    ]
    assert f"page:{page.pk}" not in published["store"].keys(ALIAS)


def test_moving_a_page_reindexes_it_under_its_new_parent(published, fake):
    from wagtail.models import Page

    page = published["telemedicine"]
    with published["commit"]():
        Page.objects.get(pk=page.pk).move(published["voj"], pos="last-child")
    (bulk,) = _bulks(fake)
    assert bulk == _journaled(page.pk) + _indexed(page.pk)
    src = bulk[3]
    assert src["path"].startswith(published["voj"].path)
    assert src["facets"]["cluster"] == [published["voj"].slug]


def test_moving_an_event_reindexes_its_presentation_too(published, fake):
    from wagtail.models import Page

    event, presentation = published["event"], published["presentation"]
    target = Page.objects.get(pk=published["event"].get_parent().pk)
    with published["commit"]():
        Page.objects.get(pk=event.pk).move(target, pos="first-child")
    (bulk,) = _bulks(fake)
    ids = sorted((event.pk, presentation.pk))
    assert bulk[:4] == _journaled(ids[0]) + _journaled(ids[1])
    assert bulk[4:] == _indexed(ids[0]) + _indexed(ids[1])


# -- more like this ----------------------------------------------------------------------------


def test_similar_asks_more_like_this_of_the_pages_own_entry_within_what_search_shows(fake, elastic_engine):
    fake.on("POST", f"/{ALIAS}/_search", _search_response())
    elastic_engine.similar(7, limit=4, within=("00010001",))
    body = fake.sent("POST", f"/{ALIAS}/_search")[-1]["body"]
    assert body["size"] == 4
    query = body["query"]["bool"]
    (mlt,) = [c["more_like_this"] for c in query["must"]]
    assert mlt["like"] == [{"_index": ALIAS, "_id": "page:7"}]
    assert mlt["fields"] == ["title", "summary", "tags"]
    assert mlt["max_query_terms"] == 12 and mlt["min_doc_freq"] == 2
    assert "the" in mlt["stop_words"]
    # Never the page itself (nor its document parts: they share its page_id), never expired.
    assert {"term": {"page_id": 7}} in query["must_not"]
    assert {"range": {"expires": {"lte": "now"}}} in query["must_not"]
    # Practices' own entries only, on this site.
    assert {"term": {"type": "practice"}} in query["filter"]
    assert {"term": {"part": False}} in query["filter"]
    assert {"bool": {"should": [{"prefix": {"path": "00010001"}}], "minimum_should_match": 1}} in query[
        "filter"
    ]
    assert body["sort"] == ["_score", {"key": "asc"}]


def test_similar_reads_hits_and_treats_a_missing_index_as_none(fake, elastic_engine):
    hits = [
        {"_index": LIVE, "_id": "page:9", "_score": 3.2, "_source": _source(9, "Economy circular")},
        {"_index": LIVE, "_id": "page:3", "_score": 1.1, "_source": _source(3, "Recycling phones")},
    ]
    fake.on("POST", f"/{ALIAS}/_search", _search_response(hits))
    found = elastic_engine.similar(7)
    assert [(h.page_id, h.title, h.url) for h in found] == [
        (9, "Economy circular", "/p/9/"),
        (3, "Recycling phones", "/p/3/"),
    ]
    assert found[0].score == 3.2 and found[0].display == {"cluster": "Cluj IT Cluster"}
    assert found[0].snippet_html == "Collecting &lt;old&gt; phones &amp; tablets."
    assert elastic_engine.similar(7, limit=0) == []
    fake.on("POST", f"/{ALIAS}/_search", Reply(404, _not_found(ALIAS)))
    assert elastic_engine.similar(7) == []


def test_similar_when_elasticsearch_is_down_is_unavailable(fake, elastic_engine):
    fake.on("POST", f"/{ALIAS}/_search", Reply(503, {"error": "unavailable", "status": 503}))
    with pytest.raises(EngineUnavailable):
        elastic_engine.similar(7)
