"""How the service keeps answering when an engine cannot: for any engine.

- A circuit breaker per engine: after ``FAILURES`` failures within ``WINDOW`` seconds (an
  Elasticsearch that accepts connections and never answers), the engine is not asked for
  ``COOLDOWN`` seconds; a background probe closes the circuit again once it answers.
- A broken index (damaged, missing, another layout, or empty while pages are published) is detected
  at open, on error and by a check every ``CHECK_INTERVAL`` seconds; the embedded engine is then
  rebuilt in a background thread, one at a time across processes (a lock file), while the service
  answers from elsewhere.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections

from search.engines.base import Engine, EngineBroken, EngineUnavailable

logger = logging.getLogger("search")

FAILURES = 3
WINDOW = 30.0
COOLDOWN = 30.0
CHECK_INTERVAL = 60.0


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@dataclass
class Guard:
    """What the service knows of one engine's health in this process."""

    engine: Engine
    embedded: bool
    failures: deque = field(default_factory=deque)
    open_until: float = 0.0
    broken: str = ""
    rebuilding: bool = False
    checked_at: float = 0.0
    probing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list = field(default_factory=list)

    # Asking

    def ready(self, expected_pages) -> bool:
        """May the engine be asked now? Runs the periodic check of an embedded index first."""
        if self.broken:
            return False
        if time.monotonic() < self.open_until:
            return False
        if self.embedded and time.monotonic() - self.checked_at > _setting(
            "SEARCH_CHECK_INTERVAL", CHECK_INTERVAL
        ):
            self.checked_at = time.monotonic()
            try:
                if self.engine.count() == 0 and expected_pages() > 0:
                    raise EngineBroken("The search index is empty while pages are published.")
            except EngineUnavailable as exc:
                self.failed(exc)
                return False
        return True

    def succeeded(self) -> None:
        if self.failures:
            self.failures.clear()

    def failed(self, exc: EngineUnavailable) -> None:
        if isinstance(exc, EngineBroken):
            logger.error("search index of %s broken: %s", self.engine.name, exc)
            self.broken = str(exc)
            if self.embedded:
                self.rebuild_in_background()
            return
        now = time.monotonic()
        with self.lock:
            self.failures.append(now)
            window = _setting("SEARCH_BREAKER_WINDOW", WINDOW)
            while self.failures and self.failures[0] < now - window:
                self.failures.popleft()
            if len(self.failures) < int(_setting("SEARCH_BREAKER_FAILURES", FAILURES)):
                return
            self.open_until = now + _setting("SEARCH_BREAKER_COOLDOWN", COOLDOWN)
            self.failures.clear()
            if self.probing:
                return
            self.probing = True
        logger.warning("search engine %s not answering: not asked for a while (%s)", self.engine.name, exc)
        self._start(self._probe)

    # Background work

    def _start(self, target) -> threading.Thread:
        def run():
            try:
                target()
            finally:
                connections.close_all()  # this thread's own database connections

        thread = threading.Thread(target=run, daemon=True, name=f"search-{self.engine.name}")
        self.threads.append(thread)
        thread.start()
        return thread

    def _probe(self) -> None:
        try:
            while True:
                time.sleep(max(0.0, self.open_until - time.monotonic()))
                try:
                    self.engine.count()
                except EngineUnavailable:
                    self.open_until = time.monotonic() + _setting("SEARCH_BREAKER_COOLDOWN", COOLDOWN)
                    continue
                self.open_until = 0.0
                logger.info("search engine %s answers again", self.engine.name)
                return
        finally:
            self.probing = False

    def rebuild_in_background(self) -> None:
        with self.lock:
            if self.rebuilding:
                return
            self.rebuilding = True
        self._start(self._rebuild)

    def _rebuild(self) -> None:
        from search import documents

        lock_path = Path(settings.SEARCH_INDEX_DIR).with_name(
            Path(settings.SEARCH_INDEX_DIR).name + ".rebuild-lock"
        )
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(lock_path, "a+") as lock:
                # Another process may be rebuilding it: wait for it, then rebuild only if still needed.
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    if not self._healthy():
                        n = self.engine.rebuild(documents.all_entries())
                        logger.warning(
                            "search index of %s rebuilt in the background: %s entries", self.engine.name, n
                        )
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            self.broken = ""
            self.checked_at = time.monotonic()
        except Exception:
            logger.exception("background rebuild of the %s index failed", self.engine.name)
        finally:
            self.rebuilding = False

    def _healthy(self) -> bool:
        try:
            return self.engine.count() > 0
        except EngineUnavailable:
            return False

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for this guard's background work (tests, benches)."""
        for thread in list(self.threads):
            thread.join(timeout)

    def status(self) -> dict:
        remaining = self.open_until - time.monotonic()
        return {
            "broken": self.broken,
            "rebuilding": self.rebuilding,
            "circuit_open_for": round(remaining, 1) if remaining > 0 else 0,
        }


_guards: dict[int, Guard] = {}
_lock = threading.Lock()


def guard(engine: Engine, *, embedded: bool) -> Guard:
    with _lock:
        g = _guards.get(id(engine))
        if g is None or g.engine is not engine:
            g = _guards[id(engine)] = Guard(engine, embedded)
        return g


def reset() -> None:
    with _lock:
        _guards.clear()
