"""What every search asks the database although it rarely changes (which site a host name serves, which
words have editors' picks), kept in each process until a change to it is saved in any process.

A process's copy is tagged with a generation read from Django's cache, which the processes share (as
Wagtail's own cache of site root paths). Saving or deleting a watched model deletes the generation at
once and again when the transaction commits, so every process reads the database again on its next
request. The generation is read before the database, so a value read before a commit is never kept
under the generation that follows it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

# A host name comes from the request: never let clients grow a process's memory without bound.
MAX_KEYS = 256


class KeptUntilSaved:
    """Values computed from the database, kept in this process until one of ``models`` changes."""

    def __init__(self, name: str, models: tuple[type, ...] = ()):
        self.cache_key = f"kb.search.kept.{name}"
        self.models = models
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        generation = self._current_generation()
        with self._lock:
            if generation != self._generation:
                self._generation, self._values = generation, {}
            if key in self._values:
                return self._values[key]
        value = compute()
        with self._lock:
            if generation == self._generation:
                if len(self._values) >= MAX_KEYS:
                    self._values.clear()
                self._values[key] = value
        return value

    def _current_generation(self) -> str:
        generation = cache.get(self.cache_key)
        if generation is None:
            generation = uuid.uuid4().hex
            if not cache.add(self.cache_key, generation, timeout=None):
                generation = cache.get(self.cache_key) or generation
        return generation

    def forget(self, **_signal_kwargs) -> None:
        """Every process reads the database again: now (this process sees its own transaction) and
        after the commit (the others see it then)."""
        cache.delete(self.cache_key)
        transaction.on_commit(lambda: cache.delete(self.cache_key))

    def connect(self, *extra_signals) -> None:
        for model in self.models:
            uid = f"{self.cache_key}.{model._meta.label_lower}"
            post_save.connect(self.forget, sender=model, dispatch_uid=f"{uid}.saved", weak=False)
            post_delete.connect(self.forget, sender=model, dispatch_uid=f"{uid}.deleted", weak=False)
        for n, signal in enumerate(extra_signals):
            signal.connect(self.forget, dispatch_uid=f"{self.cache_key}.signal{n}", weak=False)
