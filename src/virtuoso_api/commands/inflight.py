"""Steps sent to Virtuoso whose answer is not yet in history: recorded before the call, settled after.

A process killed between Virtuoso's ``POST /teststeps`` and the history write used to leave a step
with no record. Now a record of the request goes through the durable write path first; the history
entry and the record's removal then land together in one batch. Whatever interrupted that (kill -9,
a crash, a lost answer) leaves the record behind, and :meth:`InFlightSteps.settle` finds it later and
looks in the checkpoint: a step of that shape that history does not know yet becomes a success entry
with its id; none becomes a failed entry saying the command was interrupted. Every step made is then
in history exactly once.

Two settlers may meet on one record (the sweep at start-up, and a job resuming its command). Each
removes the record only if it is still the write it read (``begun``), in the batch of its entry: the
one that lands first is the record's answer, and the other's write is refused whole, never left to
overwrite the entry of a command sent again since.

When is a record abandoned? When the process that wrote it is gone (same host, its pid no longer
running), or when it is older than the longest a Virtuoso call can take (then it was abandoned
wherever it was written).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.history.models import COLLECTION as HISTORY
from virtuoso_api.history.models import HistoryEntry, Source
from virtuoso_api.history.service import HistoryService
from virtuoso_api.infra.documents import (
    DocumentChanged,
    DocumentStore,
    DurableWrites,
    Filter,
    Op,
    Put,
    Query,
    Remove,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.ids import new_id
from virtuoso_api.kit.processes import holder, is_gone, is_ours
from virtuoso_api.kit.timestamps import format_timestamp, parse_timestamp
from virtuoso_api.virtuoso import VirtuosoClient
from virtuoso_api.virtuoso.models import Step

logger = logging.getLogger(__name__)

COLLECTION = "steps_in_flight"


@dataclass(frozen=True, slots=True)
class RequestIds:
    """Ids fixed by the caller (a job: one pair per command), so a later attempt finds what an
    interrupted one left: its in-flight record, or its history entry."""

    record_id: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class InFlight:
    """One step request: what history needs to record it, and what to look for in the checkpoint."""

    record_id: str
    entry_id: str
    user_id: str
    key_id: str | None
    session_id: str | None
    checkpoint_id: int
    position: int
    command: str
    args: list[str]
    source: Source
    step: dict[str, Any]

    def as_data(self, *, at: datetime) -> dict[str, Any]:
        """The record as :meth:`InFlightSteps.begin` writes it; ``begun`` tells this write from any
        other of the same ids (a job's command sent again), which settling checks before it acts."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["source"] = self.source.value
        return {**data, **holder(), "at": format_timestamp(at), "begun": secrets.token_hex(8)}


class InFlightSteps:
    def __init__(
        self,
        store: DocumentStore,
        writes: DurableWrites,
        *,
        history: HistoryService,
        clock: Clock,
        longest_call: timedelta,
    ) -> None:
        self._store = store
        self._writes = writes
        self._history = history
        self._clock = clock
        self._longest_call = longest_call

    def new(self, ids: RequestIds | None = None, **fields: Any) -> InFlight:
        if ids is not None:
            return InFlight(record_id=ids.record_id, entry_id=ids.entry_id, **fields)
        return InFlight(record_id=new_id("step"), entry_id=self._history.new_id(), **fields)

    async def begin(self, request: InFlight) -> None:
        await self._writes.write([Put(COLLECTION, request.record_id, request.as_data(at=self._clock.now()))])

    async def drop(self, request: InFlight) -> None:
        """Forget a request Virtuoso refused (nothing was made) that is about to be sent again."""
        await self._writes.write([self.done(request)])

    def done(self, request: InFlight) -> Remove:
        """The removal that lands with the history entry."""
        return Remove(COLLECTION, request.record_id)

    async def settle(self, client: VirtuosoClient) -> int:
        """Record every abandoned request in history (see the module docstring); returns how many."""
        settled = 0
        cursor: str | None = None
        while True:
            page = await self._store.query(Query(COLLECTION, limit=100, cursor=cursor))
            for document in page.documents:
                if self._abandoned(document.data):
                    try:
                        settled += await self._settle_one(client, document.data) is not None
                    except VirtuosoApiError as exc:  # Virtuoso or the store is down: next round
                        logger.warning("could not settle step request %s: %s", document.id, exc.message)
            if (cursor := page.next_cursor) is None:
                return settled

    async def settle_one(self, client: VirtuosoClient, record_id: str) -> HistoryEntry | None:
        """Settle one request whose caller knows it is no longer in flight (it holds the claim on
        the work that made it): the history entry written for it. ``None`` when there is no such
        record, or another settler got to it first (then its entry says what became of the request).

        The entry is handed back, not left to be read again: with a remote store behind the outbox,
        a write may wait in the log while reads go to the store, and a caller that read "no entry"
        would send the command again."""
        document = await self._store.get(COLLECTION, record_id)
        if document is None:
            return None
        return await self._settle_one(client, document.data)

    def _abandoned(self, data: dict[str, Any]) -> bool:
        if is_ours(data):
            return False  # ours, and we are alive: still in flight
        age = self._clock.now() - parse_timestamp(str(data["at"]))
        return age > self._longest_call or is_gone(data)

    async def _settle_one(self, client: VirtuosoClient, data: dict[str, Any]) -> HistoryEntry | None:
        """Record the request ``data`` in history: its entry, or ``None`` when the record changed
        meanwhile."""
        checkpoint = int(data["checkpoint_id"])
        steps = await client.list_steps(checkpoint)
        # A step already recorded under this request's own entry is still this request's: two
        # settlers of one record (the periodic sweep at start-up and a job resuming its command)
        # must both find it, not the second call it interrupted and the job send it again.
        known = await self._recorded_step_ids(checkpoint, except_entry=str(data["entry_id"]))
        found = _closest(
            [s for s in steps if s.id not in known and same_step(s, data["step"])], int(data["position"])
        )
        common: dict[str, Any] = {
            "user_id": data["user_id"],
            "key_id": data.get("key_id"),
            "session_id": data.get("session_id"),
            "checkpoint_id": checkpoint,
            "command": data["command"],
            "args": data["args"],
            "source": Source(data["source"]),
            "entry_id": data["entry_id"],
            # Only the record that was read and looked for: if another settler recorded it since, or
            # a job sent its command again under the same ids, what they wrote stands. Without this
            # a slower settler's "interrupted" could overwrite the entry of the step sent again, and
            # remove the record of a request still in flight.
            "also": [Remove(COLLECTION, data["record_id"], expect={"begun": data.get("begun")})],
        }
        if found is not None:
            result = {
                "step_id": found.id,
                "checkpoint_id": checkpoint,
                "position": found.step_index,
                "action": found.action,
                "reconciled": True,
            }
            return await self._record(success=True, result=result, **common)
        error = {
            "type": "interrupted",
            "message": "the service stopped before Virtuoso answered; no step of this shape that "
            f"history does not know is in checkpoint {checkpoint}",
            "status": 503,
        }
        return await self._record(success=False, error=error, **common)

    async def _record(self, **entry: Any) -> HistoryEntry | None:
        try:
            return await self._history.record(**entry)
        except DocumentChanged:
            return None

    async def _recorded_step_ids(self, checkpoint: int, *, except_entry: str) -> set[int]:
        ids: set[int] = set()
        cursor: str | None = None
        while True:
            page = await self._store.query(
                Query(HISTORY, (Filter("checkpoint_id", Op.EQ, checkpoint),), limit=500, cursor=cursor)
            )
            for document in page.documents:
                if document.id == except_entry:
                    continue
                step_id = (document.data.get("result") or {}).get("step_id")
                if isinstance(step_id, int):
                    ids.add(step_id)
            if (cursor := page.next_cursor) is None:
                return ids


def same_step(step: Step, sent: dict[str, Any]) -> bool:
    """Whether a stored step is the one a payload (``ParsedStep.to_payload()``) describes."""
    return (
        step.action == sent.get("action")
        and (step.value or "") == sent.get("value", "")
        and step.variable == sent.get("variable")
        and (step.target or None) == (sent.get("target") or None)
    )


def _closest(candidates: Sequence[Step], position: int) -> Step | None:
    if not candidates:
        return None
    return min(candidates, key=lambda s: abs((s.step_index or position) - position))
