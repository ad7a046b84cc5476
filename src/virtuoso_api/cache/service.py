"""Cache entries as documents: ``{key, value}`` with the store's expiry.

A cache is advisory, so it degrades instead of failing: with the store unreachable a read is a miss
and a write is dropped (and says so by returning ``False``).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents import DocumentStore, Filter, Op, Query, Remove
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs
from virtuoso_api.telemetry import active

COLLECTION = "cache"
_MAX_KEY_LENGTH = 1024
# Prefix scans stop at the highest character a key can hold.
_END_OF_PREFIX = "\U0010ffff"

logger = logging.getLogger(__name__)


def _doc_id(key: str) -> str:
    # Keys may hold any character (a "/" is common); the store's ids may not. A hash fits both.
    return hashlib.sha256(key.encode()).hexdigest()


def _check_key(key: str) -> str:
    if not key or len(key) > _MAX_KEY_LENGTH:
        raise ValueError(f"a cache key has 1 to {_MAX_KEY_LENGTH} characters")
    return key


class CacheService:
    def __init__(self, store: DocumentStore, *, clock: Clock, default_ttl_seconds: int) -> None:
        self._store = store
        self._clock = clock
        self._default_ttl = default_ttl_seconds

    def needs(self) -> Needs:
        return Needs(expiring_collections=(COLLECTION,))

    async def get(self, key: str) -> Any | None:
        """The value, or ``None`` for a miss (absent, expired, or the store unreachable)."""
        try:
            document = await self._store.get(COLLECTION, _doc_id(_check_key(key)))
        except BackendUnavailable:
            logger.warning("cache read is a miss: the store is unavailable")
            active().metrics.cache.add(1, {"result": "miss"})
            return None
        active().metrics.cache.add(1, {"result": "miss" if document is None else "hit"})
        return None if document is None else document.data["value"]

    async def set(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> bool:
        """Store a JSON value for ``ttl_seconds`` (default ``CACHE_TTL_SECONDS``); ``False`` if dropped."""
        ttl = self._default_ttl if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise ValueError("ttl_seconds must be positive")
        expires_at = self._clock.now() + timedelta(seconds=ttl)
        try:
            await self._store.put(
                COLLECTION, _doc_id(_check_key(key)), {"key": key, "value": value}, expires_at=expires_at
            )
        except BackendUnavailable:
            logger.warning("cache write dropped: the store is unavailable")
            return False
        return True

    async def delete(self, key: str) -> bool:
        return await self._store.delete(COLLECTION, _doc_id(_check_key(key)))

    async def clear(self, prefix: str = "") -> int:
        """Remove every entry whose key starts with ``prefix`` (all of them for ``""``)."""
        removed = 0
        while True:
            filters = (
                (Filter("key", Op.GE, prefix), Filter("key", Op.LT, prefix + _END_OF_PREFIX))
                if prefix
                else ()
            )
            page = await self._store.query(Query(COLLECTION, filters, order_by="key", limit=500))
            if not page.documents:
                return removed
            await self._store.write_batch([Remove(COLLECTION, doc.id) for doc in page.documents])
            removed += len(page.documents)
