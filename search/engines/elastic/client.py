"""Calls to the cluster, with what an outage looks like mapped to ``EngineUnavailable``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from search.engines.base import EngineUnavailable

BULK_CHUNK = 500


class IndexWriteError(RuntimeError):
    """Elasticsearch rejected an entry for a reason waiting will not cure (a mapping error)."""


def make_client(
    url: str,
    *,
    timeout: float,
    api_key: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    verify_certs: bool = True,
) -> Elasticsearch:
    return Elasticsearch(
        url,
        api_key=api_key,
        basic_auth=basic_auth,
        verify_certs=verify_certs,
        request_timeout=timeout,
        # A search falls back at once rather than waiting through retries.
        max_retries=0,
        retry_on_timeout=False,
    )


class ClusterCalls:
    """Requests to the cluster on ``self.client``; ``self.journal`` writes are not counted as entries."""

    client: Elasticsearch
    alias: str
    journal: str

    def _call(self, fn, *args, **kwargs):
        try:
            response = fn(*args, **kwargs)
        except NotFoundError:
            raise
        except (elastic_transport.TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        return getattr(response, "body", response)

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

    def _scan(self, index: str, query: dict, *, source: bool) -> list[dict]:
        body = {"query": query, **({} if source else {"_source": False})}
        return self._call(lambda: list(helpers.scan(self.client, index=index, query=body, size=1000)))

    def _keys(self, index: str, page_ids: list[int]) -> list[str]:
        return [hit["_id"] for hit in self._scan(index, {"terms": {"page_id": page_ids}}, source=False)]

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


def _is_transient(status: int | None) -> bool:
    """Overloaded (429) or failing server-side (5xx): "not now", so fall back or queue."""
    return status is not None and (status == 429 or status >= 500)


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
