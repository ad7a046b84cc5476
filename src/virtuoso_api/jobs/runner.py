"""One attempt at a job: its commands run exactly once in effect, however often the task is delivered.

Each command of a job has fixed identities: an idempotency key ``{job_id}:{index}`` (its claim, and
its outcome kept for a day) and the ids of its in-flight record and history entry. An attempt runs
a command only after looking for what an earlier attempt left:

1. its outcome under the key: replayed, nothing runs;
2. its in-flight record (the attempt died while Virtuoso was being asked): settled now, which finds
   the step in the checkpoint or records that none was made, in its history entry;
3. its history entry (written by an attempt that ended, or by 2): that is the outcome, unless it
   says the command was interrupted (then it runs again);
4. nothing: the command runs, under those ids.

The claim makes 2 safe: whoever holds it knows no one else is sending that command (a claim held by
a process that is gone is taken over at once; one held elsewhere blocks for its lease, longer than
any Virtuoso call). A claim held by a live runner makes this attempt give way (:class:`Busy`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.commands.inflight import RequestIds
from virtuoso_api.commands.models import BatchItem, CommandRequest, ManagementOutcome, StepOutcome
from virtuoso_api.commands.service import CommandService, error_of
from virtuoso_api.errors import BackendUnavailable, Conflict, VirtuosoApiError
from virtuoso_api.history.models import HistoryEntry, Source
from virtuoso_api.history.service import HistoryService
from virtuoso_api.idempotency import IdempotencyService, OnceKey
from virtuoso_api.infra.documents import DocumentStore
from virtuoso_api.jobs.models import COLLECTION, Job
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp

logger = logging.getLogger(__name__)

_ITEM: TypeAdapter[BatchItem] = TypeAdapter(BatchItem)
#: Errors that say "not now" rather than "no": an entry with one is not the command's outcome.
_NOT_AN_OUTCOME = {"interrupted", "service_unavailable"}


class Busy(BackendUnavailable):
    """Another live runner holds a command of this job; this attempt gives way and comes back later."""

    def __init__(self, what: str) -> None:
        super().__init__("jobs", f"{what} is being run by another attempt")


@dataclass(frozen=True)
class RunDeps:
    store: DocumentStore
    commands: CommandService
    history: HistoryService
    idempotency: IdempotencyService
    clock: Clock
    #: How long a command's claim outlives a runner that stopped answering (> the longest Virtuoso call).
    claim_lease: timedelta


@dataclass
class JobRun:
    """One delivery of a job's task: runs its commands and reports progress and cancellation."""

    job: Job
    deps: RunDeps
    done: int = 0
    _principal: Principal = field(init=False)

    def __post_init__(self) -> None:
        self._principal = Principal(
            key_id=self.job.key_id or "",
            user_id=self.job.owner,
            name=f"job {self.job.job_id}",
            scopes=frozenset({Scope.READ, Scope.WRITE}),
        )

    @property
    def principal(self) -> Principal:
        """Who the job runs as (its owner, with its key's id), for work a handler does itself."""
        return self._principal

    async def cancelled(self) -> bool:
        """Whether a cancel was asked since the job started (read from the store: it may come from
        another instance)."""
        document = await self.deps.store.get(COLLECTION, self.job.job_id)
        return document is None or bool(document.data.get("cancel_requested"))

    async def advance(self) -> None:
        self.done += 1
        await self.deps.store.patch(
            COLLECTION,
            self.job.job_id,
            {
                "progress": {"done": self.done, "total": self.job.progress.total},
                "updated_at": format_timestamp(self.deps.clock.now()),
            },
        )

    async def command(self, index: int, command: CommandRequest) -> BatchItem:
        """Run command ``index`` exactly once in effect (module docstring); a failure Virtuoso or the
        command itself decided is a failed item, "not now" raises for the task to be retried."""
        ids = self._ids(index)

        async def work() -> BatchItem:
            earlier = await self._earlier_outcome(index, ids)
            if earlier is not None:
                return earlier
            try:
                outcome = await self.deps.commands.execute(
                    self._principal, command, source=Source.TASK, ids=ids
                )
            except BackendUnavailable:
                raise  # not now: the claim is released and the task retried
            except VirtuosoApiError as exc:
                return BatchItem(index=index, status="failed", error=error_of(exc))
            return BatchItem(index=index, status="succeeded", outcome=outcome)

        return await self._once(index, command, work)

    async def earlier(self, index: int, command: CommandRequest) -> BatchItem | None:
        """What an earlier attempt made of command ``index`` (steps 1-3 of the module docstring),
        without ever sending it: for a cancelled job, which still owns what it made before the
        cancel. ``None`` if it never ran (nothing is kept for it: its claim is released)."""
        ids = self._ids(index)

        async def work() -> BatchItem:
            return await self._earlier_outcome(index, ids) or BatchItem(index=index, status="skipped")

        item = await self._once(index, command, work, keep=lambda found: found.status != "skipped")
        return None if item.status == "skipped" else item

    def _ids(self, index: int) -> RequestIds:
        job_id = self.job.job_id
        return RequestIds(record_id=f"step_{job_id}_{index}", entry_id=f"h_{job_id}_{index}")

    async def _once(
        self,
        index: int,
        command: CommandRequest,
        work: Callable[[], Awaitable[BatchItem]],
        *,
        keep: Callable[[BatchItem], bool] = lambda _: True,
    ) -> BatchItem:
        """``work`` under command ``index``'s claim (no other attempt is sending it meanwhile); its
        item is kept as the command's outcome if ``keep`` says so."""
        job_id = self.job.job_id
        key = OnceKey(self.job.owner, "jobs", f"{job_id}:{index}", command.model_dump(mode="json"))
        try:
            once = await self.deps.idempotency.run_once(
                key, work, result_type=_ITEM, changed=keep, lease=self.deps.claim_lease, take_over=True
            )
        except Conflict as exc:
            raise Busy(f"command {index} of job {job_id}") from exc
        return once.value

    async def _earlier_outcome(self, index: int, ids: RequestIds) -> BatchItem | None:
        # The record is looked for before the entry, never after: another settler (the start-up
        # sweep) writes the entry and removes the record in one batch, so "no entry, then no record"
        # can mean it settled in between, and the step it found would be sent again. "No record,
        # then no entry" cannot: an entry, once written, stays. The entry this settling wrote is used
        # as it is (a remote store's write may still wait in the outbox, unseen by a read).
        entry = await self.deps.commands.settle_request(ids.record_id)
        if entry is not None:
            logger.info("job command %s: settled the request an earlier attempt left", ids.record_id)
        else:
            entry = await self.deps.history.get(ids.entry_id)
        if entry is None or (not entry.success and (entry.error or {}).get("type") in _NOT_AN_OUTCOME):
            return None
        return item_from_entry(index, entry)


def item_from_entry(index: int, entry: HistoryEntry) -> BatchItem:
    """The batch item an earlier attempt's history entry stands for."""
    if not entry.success:
        return BatchItem(index=index, status="failed", error=entry.error)
    result: dict[str, Any] = entry.result or {}
    duration = entry.duration_ms or 0.0
    outcome: StepOutcome | ManagementOutcome
    if "step_id" in result:
        outcome = StepOutcome(
            step_id=result["step_id"],
            checkpoint_id=result["checkpoint_id"],
            position=result["position"],
            action=result["action"],
            command=entry.command,
            args=entry.args,
            session_id=entry.session_id,
            duration_ms=duration,
        )
    else:
        outcome = ManagementOutcome(
            command=entry.command,
            args=entry.args,
            result=result.get("result", result),
            duration_ms=duration,
            created=bool(result.get("created", False)),
        )
    return BatchItem(index=index, status="succeeded", outcome=outcome)
