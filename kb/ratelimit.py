"""Requests per minute per client address on the API, feeds and exports, counted in the cache."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

LIMITED_PREFIXES = ("/api/", "/feeds/", "/export/")
WINDOW = 60


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


def hit(scope: str, address: str, *, limit: int, window: int) -> int | None:
    """Count one request of ``address`` in the current window of ``scope``. Returns None while within
    ``limit``, else the seconds until the window ends."""
    now = time.time()
    slot = int(now // window)
    key = f"kb-ratelimit:{scope}:{address}:{slot}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return max(1, int((slot + 1) * window - now))
    return None


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.KB_RATE_LIMIT_PER_MINUTE
        if limit > 0 and request.path.startswith(LIMITED_PREFIXES):
            retry = hit("requests", client_address(request), limit=limit, window=WINDOW)
            if retry is not None:
                response = JsonResponse(
                    {"error": f"Too many requests: at most {limit} a minute. Try again in {retry} s."},
                    status=429,
                )
                response["Retry-After"] = str(retry)
                return response
        return self.get_response(request)
