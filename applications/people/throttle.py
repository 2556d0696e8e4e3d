"""Counting requests in the cache (Redis in production, so that every web process counts together):
a fixed window per key that starts at the first request."""

import hashlib

from django.core.cache import cache


def within_limit(scope: str, key: str, limit: int, window: int) -> bool:
    """Count one request for (scope, key); False once more than `limit` came within `window` seconds.
    The key is hashed: e-mail addresses and client addresses are not kept in the cache as typed."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"portal:limit:{scope}:{digest}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count <= limit
