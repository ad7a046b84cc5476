"""The record of each run this service started, in the documents store (collection ``runs``).

One document per execution, keyed by its id: written durably when the run starts (like command
history, it is never lost while Firestore is down), then brought up to date when the service sees
the run end. Listing is per user, newest first, optionally for one goal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from virtuoso_api.errors import InvalidInput
from virtuoso_api.infra.documents import (
    DocumentStore,
    DurableWrites,
    Filter,
    Op,
    Patch,
    Put,
    Query,
    query_page,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.runs.models import COLLECTION, RunPage, RunRecord, RunView


class RunLog:
    def __init__(self, store: DocumentStore, *, writes: DurableWrites, clock: Clock) -> None:
        self._store = store
        self._writes = writes
        self._clock = clock

    async def started(self, records: Sequence[RunRecord]) -> None:
        await self._writes.write(
            [Put(COLLECTION, str(r.execution_id), r.model_dump(mode="json")) for r in records]
        )

    async def get(self, execution_id: int) -> RunRecord | None:
        document = await self._store.get(COLLECTION, str(execution_id))
        return None if document is None else RunRecord.model_validate(document.data)

    async def ended(self, record: RunRecord, view: RunView) -> None:
        """Keep how the run of ``record`` ended."""
        changes: dict[str, Any] = {
            "status": view.status,
            "outcome": view.outcome,
            "verdict": view.verdict.value,
            "finished": view.finished,
            "ended_at": format_timestamp(view.ended_at) if view.ended_at else None,
            "checked_at": format_timestamp(self._clock.now()),
        }
        if record.project_id is None and view.project_id is not None:
            changes["project_id"] = view.project_id
        await self._writes.write([Patch(COLLECTION, str(view.execution_id), changes)])

    async def checked(self, execution_id: int) -> None:
        await self._writes.write(
            [Patch(COLLECTION, str(execution_id), {"checked_at": format_timestamp(self._clock.now())})]
        )

    async def unfinished(self, *, limit: int) -> list[RunRecord]:
        """Runs not seen ending, least recently checked first."""
        page = await self._store.query(
            Query(COLLECTION, (Filter("finished", Op.EQ, False),), order_by="checked_at", limit=limit)
        )
        return [RunRecord.model_validate(document.data) for document in page.documents]

    async def list(
        self, *, user_id: str | None, goal_id: int | None, limit: int, cursor: str | None
    ) -> RunPage:
        if not 1 <= limit <= 200:
            raise InvalidInput("limit", "must be between 1 and 200")
        filters = []
        if user_id is not None:
            filters.append(Filter("user_id", Op.EQ, user_id))
        if goal_id is not None:
            filters.append(Filter("goal_id", Op.EQ, goal_id))
        query = Query(
            COLLECTION, tuple(filters), order_by="started_at", descending=True, limit=limit, cursor=cursor
        )
        page = await query_page(self._store, query)
        return RunPage(
            runs=[RunRecord.model_validate(document.data) for document in page.documents],
            next_cursor=page.next_cursor,
        )
