"""The search engines: which one answers (Elasticsearch, else the embedded index named by
KB_SEARCH_ENGINE), the fallback beside it, and each one's guard and health."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wagtail.models import Page

from practices import visibility
from search import documents, queue, resilience
from search.engines.base import Engine

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def _fts5() -> Engine:
    from search.engines.fts5 import Fts5Engine

    return Fts5Engine(settings.SEARCH_INDEX_DIR)


def _tantivy() -> Engine:
    from search.engines.tantivy import TantivyEngine

    return TantivyEngine(Path(settings.SEARCH_INDEX_DIR) / "tantivy")


# The embedded engines, by KB_SEARCH_ENGINE: the only place that knows them by name.
EMBEDDED: dict[str, Callable[[], Engine]] = {"fts5": _fts5, "tantivy": _tantivy}


def _elastic() -> Engine:
    from search.engines.elastic import ElasticEngine

    user, password = settings.ELASTICSEARCH_USERNAME, settings.ELASTICSEARCH_PASSWORD
    return ElasticEngine(
        url=settings.ELASTICSEARCH_URL,
        index_prefix=settings.ELASTICSEARCH_INDEX_PREFIX,
        timeout=settings.ELASTICSEARCH_TIMEOUT,
        api_key=settings.ELASTICSEARCH_API_KEY or None,
        basic_auth=(user, password) if user else None,
        verify_certs=settings.ELASTICSEARCH_VERIFY_CERTS,
    )


def _cached(name: str, factory: Callable[[], Engine]) -> Engine:
    # Keyed by the settings that pick the engine, so a test's settings override gets a fresh one.
    key = f"{name}:{settings.ELASTICSEARCH_URL if name == 'elastic' else settings.SEARCH_INDEX_DIR}"
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key) or _engines.setdefault(key, factory())
    return engine


def _embedded() -> Engine:
    name = settings.KB_SEARCH_ENGINE
    if name not in EMBEDDED:
        raise ImproperlyConfigured(f"KB_SEARCH_ENGINE={name!r}: use one of {', '.join(EMBEDDED)}.")
    return _cached(name, EMBEDDED[name])


def get_engine() -> Engine:
    """Elasticsearch when ELASTICSEARCH_URL is set, else the embedded index (KB_SEARCH_ENGINE); one per process."""
    if settings.ELASTICSEARCH_URL:
        return _cached("elastic", _elastic)
    return _embedded()


def fallback_engine() -> Engine | None:
    """The embedded index kept beside Elasticsearch, answering when it is down."""
    return _embedded() if settings.ELASTICSEARCH_URL else None


def engines() -> list[Engine]:
    return [e for e in (get_engine(), fallback_engine()) if e is not None]


def embedded_engine() -> Engine:
    """The index kept in the project's own files: the primary engine, or the fallback beside
    Elasticsearch. It is the one the service rebuilds by itself when it finds it broken."""
    return fallback_engine() or get_engine()


def reset_engine() -> None:
    """Forget the cached engines and what was learnt of their health (tests, or new settings)."""
    with _lock:
        _engines.clear()
    resilience.reset()


def guarded() -> Iterator[tuple[Engine, resilience.Guard]]:
    """The engines that may be asked now, in order, each with its guard."""
    embedded = embedded_engine()
    for engine in engines():
        guard = resilience.guard(engine, embedded=engine is embedded)
        if guard.ready(live_public_page_count):
            yield engine, guard


def live_public_page_count() -> int:
    """Live, public, unexpired pages of the indexed types, by Wagtail's own rules (the admin's health)."""
    return visibility.visible(Page.objects.type(*documents.INDEXED_MODELS)).count()


def health() -> dict:
    """What the admin's health panel shows for the primary engine (and its fallback, if any)."""
    from search.models import PendingIndexUpdate

    def state(engine: Engine) -> dict:
        guard = resilience.guard(engine, embedded=engine is embedded_engine())
        if guard.status()["circuit_open_for"] or guard.status()["broken"]:
            # Not asked while it is known not to answer: the panel must not hang or fail on it.
            data = {
                "reachable": False,
                "entries": None,
                "pages": None,
                "error": guard.broken or "not answering",
            }
        else:
            data = dict(engine.health())
        data["name"] = engine.name
        data.update(guard.status())
        return data

    fallback = fallback_engine()
    return {
        "engine": state(get_engine()),
        "fallback": state(fallback) if fallback is not None else None,
        "live_pages": live_public_page_count(),
        "queued": queue.pending(PendingIndexUpdate),
    }
