"""Recording and querying command history through the documents port.

Entries are written with ids fixed when they are recorded, so a write that is replayed (from the
outbox, after Firestore was unreachable) lands once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from virtuoso_api.errors import InvalidInput
from virtuoso_api.history.models import COLLECTION, HistoryEntry, HistoryFilters, HistoryPage, Source
from virtuoso_api.infra.documents import DocumentStore, Filter, InvalidCursor, Op, Put, Query, WriteOp
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp


class Writer(Protocol):
    """Where history writes go: the store itself, or an outbox in front of it
    (:class:`~virtuoso_api.infra.documents.outbox.OutboxWriter`) when the store is remote."""

    async def write(self, operations: Sequence[WriteOp]) -> None: ...

    async def pending(self) -> int:
        """Writes accepted but not yet in the store."""
        ...

    async def flush(self) -> int:
        """Send what is pending; returns how many operations landed."""
        ...


class DirectWriter:
    """Straight to the store: for the local store, which is down only when the disk is."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def write(self, operations: Sequence[WriteOp]) -> None:
        await self._store.write_batch(operations)

    async def pending(self) -> int:
        return 0

    async def flush(self) -> int:
        return 0


class HistoryService:
    def __init__(self, store: DocumentStore, *, clock: Clock, writer: Writer | None = None) -> None:
        self._store = store
        self._clock = clock
        self.writer: Writer = writer or DirectWriter(store)

    def _new_id(self) -> str:
        # Time first, so ids sort by recording time; random after, so two entries never collide.
        return f"h_{self._clock.now():%Y%m%d%H%M%S%f}_{secrets.token_hex(4)}"

    async def record(
        self,
        *,
        user_id: str,
        command: str,
        args: Sequence[str],
        success: bool,
        key_id: str | None = None,
        session_id: str | None = None,
        checkpoint_id: int | None = None,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        duration_ms: float | None = None,
        source: Source = Source.HTTP,
    ) -> HistoryEntry:
        entry = HistoryEntry(
            entry_id=self._new_id(),
            user_id=user_id,
            key_id=key_id,
            session_id=session_id,
            checkpoint_id=checkpoint_id,
            command=command,
            args=list(args),
            success=success,
            result=result,
            error=error,
            duration_ms=None if duration_ms is None else round(duration_ms, 3),
            source=source,
            timestamp=self._clock.now(),
        )
        await self.writer.write([Put(COLLECTION, entry.entry_id, entry.model_dump(mode="json"))])
        return entry

    async def query(
        self, filters: HistoryFilters, *, limit: int = 50, cursor: str | None = None
    ) -> HistoryPage:
        """Entries matching every filter, newest first."""
        if not 1 <= limit <= 500:
            raise InvalidInput("limit", "must be between 1 and 500")
        conditions = [
            Filter(field, Op.EQ, value)
            for field, value in filters.model_dump(exclude={"since"}).items()
            if value is not None
        ]
        if filters.since is not None:
            conditions.append(Filter("timestamp", Op.GE, format_timestamp(filters.since)))
        query = Query(
            COLLECTION, tuple(conditions), order_by="timestamp", descending=True, limit=limit, cursor=cursor
        )
        try:
            page = await self._store.query(query)
        except InvalidCursor as exc:
            raise InvalidInput("cursor", str(exc)) from exc
        return HistoryPage(
            entries=[HistoryEntry.model_validate(doc.data) for doc in page.documents],
            next_cursor=page.next_cursor,
        )
