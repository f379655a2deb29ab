"""Engines for tests that exercise the service or the queue, not an engine's store."""

from __future__ import annotations

from search.engines.base import Engine


class PartialEngine(Engine):
    """The engine interface with every operation a test's fake does not define refused loudly."""

    name = "partial"

    def _unused(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not take this call.")

    search = autocomplete = similar = index = remove_pages = rebuild = count = page_ids = _unused
