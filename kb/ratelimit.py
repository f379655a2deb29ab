"""Requests per minute per client address, counted atomically across workers and processes.

Each count is one SQL upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``): the database
serialises it, so concurrent workers can never let more requests past than the limit, as a cache's
read-then-write ``incr`` can. On PostgreSQL the counters live in its ``kb_ratecounter`` table; on
SQLite in a file of their own (``KB_RATE_LIMIT_DB``), so counting a search never waits for, or holds
up, an import writing the site's database.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

WINDOW = 60

# Path prefix -> (scope, setting holding its limit per minute). The first match counts.
SCOPES = (
    ("/export/", "export", "KB_EXPORT_RATE_LIMIT_PER_MINUTE"),
    ("/api/", "api", "KB_RATE_LIMIT_PER_MINUTE"),
    ("/feeds/", "api", "KB_RATE_LIMIT_PER_MINUTE"),
    ("/search/", "search", "KB_SEARCH_RATE_LIMIT_PER_MINUTE"),
)

UPSERT = (
    "INSERT INTO kb_ratecounter (key, slot, count) VALUES ({p}, {p}, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN kb_ratecounter.slot = excluded.slot THEN kb_ratecounter.count + 1 ELSE 1 END, "
    "slot = excluded.slot "
    "RETURNING count"
)
CREATE = "CREATE TABLE IF NOT EXISTS kb_ratecounter (key TEXT PRIMARY KEY, slot INTEGER NOT NULL, count INTEGER NOT NULL)"
# Now and then, counters of past windows are dropped.
SWEEP_CHANCE = 0.002

_local = threading.local()


def client_address(request) -> str:
    """REMOTE_ADDR, or the address the trusted proxies saw (KB_TRUSTED_PROXIES hops in front of us)."""
    hops = getattr(settings, "KB_TRUSTED_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if chain:
            # Only the addresses our own proxies appended can be trusted, not what the client sent.
            return chain[max(0, len(chain) - hops)]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _sqlite() -> sqlite3.Connection:
    path = str(settings.KB_RATE_LIMIT_DB)
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "path", None) != path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(CREATE)
        _local.conn, _local.path = conn, path
    return conn


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def hit(key: str, slot: int) -> int:
    """Count one request for ``key`` in window ``slot``; returns the count so far in that window."""
    if _on_postgres():
        with connection.cursor() as cursor:
            cursor.execute(UPSERT.format(p="%s"), [key, slot])
            count = cursor.fetchone()[0]
            if random.random() < SWEEP_CHANCE:
                cursor.execute("DELETE FROM kb_ratecounter WHERE slot < %s", [slot - 1])
        return count
    conn = _sqlite()
    count = conn.execute(UPSERT.format(p="?"), (key, slot)).fetchone()[0]
    if random.random() < SWEEP_CHANCE:
        conn.execute("DELETE FROM kb_ratecounter WHERE slot < ?", (slot - 1,))
    return count


def reset() -> None:
    """Forget every count (tests, or an operator lifting the limits at once)."""
    if _on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM kb_ratecounter")
    else:
        _sqlite().execute("DELETE FROM kb_ratecounter")


def _scope(path: str) -> tuple[str, int] | None:
    for prefix, scope, setting in SCOPES:
        if path.startswith(prefix):
            return scope, getattr(settings, setting)


def over_limit(scope: str, address: str, *, limit: int, window: int = WINDOW) -> int | None:
    """Count one request of ``address`` in the current window of ``scope``. Returns None while within
    ``limit``, else the seconds until the window ends."""
    now = time.time()
    slot = int(now // window)
    if hit(f"{scope}:{address}", slot) > limit:
        return max(1, int((slot + 1) * window - now))
    return None


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scope = _scope(request.path)
        if scope is not None and scope[1] > 0:
            name, limit = scope
            retry = over_limit(name, client_address(request), limit=limit)
            if retry is not None:
                return too_many(request, limit, retry)
        return self.get_response(request)


def too_many(request, limit: int, retry: int):
    message = f"Too many requests: at most {limit} a minute. Try again in {retry} s."
    if request.path.startswith(("/api/", "/search/suggest")):
        response = JsonResponse({"error": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry)
    return response
