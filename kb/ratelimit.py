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


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.KB_RATE_LIMIT_PER_MINUTE
        if limit > 0 and request.path.startswith(LIMITED_PREFIXES):
            now = time.time()
            window = int(now // WINDOW)
            key = f"kb-ratelimit:{client_address(request)}:{window}"
            cache.add(key, 0, timeout=WINDOW + 5)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=WINDOW + 5)
                count = 1
            if count > limit:
                retry = max(1, int((window + 1) * WINDOW - now))
                response = JsonResponse(
                    {"error": f"Too many requests: at most {limit} a minute. Try again in {retry} s."},
                    status=429,
                )
                response["Retry-After"] = str(retry)
                return response
        return self.get_response(request)
