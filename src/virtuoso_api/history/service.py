"""Recording and querying command history through the documents port.

Entries are written with ids fixed when they are recorded, so a write that is replayed (from the
outbox, after Firestore was unreachable) lands once. Writes go through the root's durable path
(:class:`~virtuoso_api.infra.documents.DurableWrites`): never lost, even while Firestore is down.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from virtuoso_api.errors import InvalidInput
from virtuoso_api.history.models import COLLECTION, HistoryEntry, HistoryFilters, HistoryPage, Source
from virtuoso_api.infra.documents import (
    DocumentStore,
    DurableWrites,
    Filter,
    Op,
    Put,
    Query,
    WriteOp,
    query_page,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp


class HistoryService:
    def __init__(self, store: DocumentStore, *, clock: Clock, writes: DurableWrites) -> None:
        self._store = store
        self._clock = clock
        self._writes = writes

    def new_id(self) -> str:
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
        entry_id: str | None = None,
        also: Sequence[WriteOp] = (),
    ) -> HistoryEntry:
        """Write one entry (with ``also``, other writes that must land with it, in one batch)."""
        entry = HistoryEntry(
            entry_id=entry_id or self.new_id(),
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
        await self._writes.write([Put(COLLECTION, entry.entry_id, entry.model_dump(mode="json")), *also])
        return entry

    async def get(self, entry_id: str) -> HistoryEntry | None:
        document = await self._store.get(COLLECTION, entry_id)
        return None if document is None else HistoryEntry.model_validate(document.data)

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
        page = await query_page(self._store, query)
        return HistoryPage(
            entries=[HistoryEntry.model_validate(doc.data) for doc in page.documents],
            next_cursor=page.next_cursor,
        )
