"""A shared cache with TTLs, in the documents store (so every instance sees the same entries)."""

from virtuoso_api.cache.service import CacheService

__all__ = ["CacheService"]
