"""The index's life: versioned names behind an alias, the journal of writes, the write block during a
rebuild's catch-up, and the atomic alias swap (Wagtail's AtomicIndexRebuilder)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from elasticsearch import ApiError, NotFoundError

from search.engines.base import EngineUnavailable, Entry, IndexMismatch
from search.engines.elastic.client import ClusterCalls, _already_exists
from search.engines.elastic.mapping import JOURNAL_BODY, index_body, to_source

# A rebuild catches up pages journaled this long before it began: other hosts' clocks may lag.
CLOCK_MARGIN = timedelta(seconds=30)


def new_index_name(alias: str) -> str:
    return f"{alias}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


class IndexLife(ClusterCalls):
    """Creating, journaling, rebuilding and dropping the indices behind ``self.alias``."""

    _ready: bool
    _journal_ready: bool

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

    def _ensure_journal(self) -> None:
        if self._journal_ready:
            return
        try:
            self._call(self.client.indices.create, index=self.journal, body=JOURNAL_BODY)
        except ApiError as exc:
            if not _already_exists(exc):
                raise
        self._journal_ready = True

    def _journal_actions(self, page_ids: Iterable[int]) -> Iterator[dict]:
        at = datetime.now(UTC).isoformat()
        for pid in sorted(page_ids):
            yield {
                "_op_type": "index",
                "_index": self.journal,
                "_id": str(pid),
                "_source": {"page_id": pid, "at": at},
            }

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
        new = new_index_name(self.alias)
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

    def drop(self) -> None:
        """Delete every index behind the alias, and the journal (tests, and retiring a knowledge base)."""
        self._delete_quietly([*self._aliased_indices(), self.journal])
        self._ready = self._journal_ready = False


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
