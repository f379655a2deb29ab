"""The Elasticsearch engine: the operations of ``search.engines.base.Engine`` on a cluster."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from search.engines.base import Completion, Engine, EngineUnavailable, Entry, Hit, Results
from search.engines.elastic.client import make_client
from search.engines.elastic.lifecycle import IndexLife, delete_actions, index_actions
from search.engines.elastic.queries import autocomplete_search, build_search, build_similar
from search.engines.elastic.responses import parse_completions, parse_hit, parse_response
from search.query import Query
from search.text import normalize


class ElasticEngine(IndexLife, Engine):
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
        self.client = client or make_client(
            url, timeout=timeout, api_key=api_key, basic_auth=basic_auth, verify_certs=verify_certs
        )

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
        return [parse_hit(h, query) for h in response["hits"]["hits"]]

    def autocomplete(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
        folded = " ".join(normalize(prefix).split())
        if not folded or limit <= 0:
            return []
        s = autocomplete_search(self.alias, prefix, folded, limit, within)
        try:
            response = self._call(self.client.search, index=self.alias, body=s.to_dict())
        except NotFoundError:
            return []
        return parse_completions(response, limit)

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
