"""A circuit breaker in front of a remote documents store.

When a call finds the store unavailable (its own retries exhausted), the next ``cooldown`` of calls
fail at once with the same :class:`BackendUnavailable` instead of each waiting out the retry budget
again; the first call after the cooldown tries for real. So during a Firestore outage a request costs
milliseconds, history goes straight to the outbox, and cache reads miss without delay.

Written here rather than taken from ``purgatory`` or ``pybreaker``: only one error type may open the
circuit (a missing document is an answer, not an outage), and the cooldown runs on the service's
``Clock`` so tests move time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents.port import (
    MAX_BATCH_OPERATIONS,
    UNSET,
    Document,
    DocumentStore,
    JsonObject,
    Page,
    Query,
    WriteOp,
    _Unset,
)
from virtuoso_api.kit.clock import Clock

T = TypeVar("T")


class CircuitBreakingStore:
    """:class:`DocumentStore` that stops asking ``inner`` for ``cooldown`` after it was unavailable."""

    def __init__(
        self, inner: DocumentStore, *, clock: Clock, cooldown: timedelta = timedelta(seconds=5)
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._cooldown = cooldown
        self._open_until: datetime | None = None
        self._reason = ""

    @property
    def backend(self) -> str:
        return self._inner.backend

    @property
    def is_open(self) -> bool:
        return self._open_until is not None and self._clock.now() < self._open_until

    async def _call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        if self.is_open:
            assert self._open_until is not None
            wait = max(1, round((self._open_until - self._clock.now()).total_seconds()))
            raise BackendUnavailable(
                self.backend, f"{self._reason} (not retried for {wait}s)", retry_after_seconds=wait
            )
        try:
            result = await attempt()
        except BackendUnavailable as exc:
            self._open_until = self._clock.now() + self._cooldown
            self._reason = exc.message.removeprefix(f"{self.backend} is unavailable: ")
            raise
        self._open_until = None
        return result

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self._call(lambda: self._inner.get(collection, doc_id))

    async def create(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        return await self._call(lambda: self._inner.create(collection, doc_id, data, expires_at=expires_at))

    async def put(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        return await self._call(lambda: self._inner.put(collection, doc_id, data, expires_at=expires_at))

    async def patch(
        self,
        collection: str,
        doc_id: str,
        changes: JsonObject,
        *,
        expires_at: datetime | None | _Unset = UNSET,
    ) -> Document:
        return await self._call(lambda: self._inner.patch(collection, doc_id, changes, expires_at=expires_at))

    async def delete(self, collection: str, doc_id: str) -> bool:
        return await self._call(lambda: self._inner.delete(collection, doc_id))

    async def query(self, query: Query) -> Page:
        return await self._call(lambda: self._inner.query(query))

    async def write_batch(self, operations: Sequence[WriteOp]) -> None:
        await self._call(lambda: self._inner.write_batch(operations))

    async def delete_expired(self, collection: str, *, limit: int = MAX_BATCH_OPERATIONS) -> int:
        return await self._call(lambda: self._inner.delete_expired(collection, limit=limit))

    async def ping(self) -> None:
        await self._call(self._inner.ping)

    async def close(self) -> None:
        await self._inner.close()
