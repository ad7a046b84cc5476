"""The local task queue: a SQLite file in the data folder, with leases, backoff and named tasks.

Written here rather than taken from a library, after looking at the three that came closest:

- **huey** (``SqliteStorage``) dequeues by deleting the row: a consumer killed mid-task loses the
  task (no lease, no redelivery); its retries are counted in the task object, not the store; it
  has no named-task dedupe and runs synchronous functions in its own consumer process.
- **litequeue** locks a message on ``pop`` but never hands a locked message out again on its own
  (a dead worker's message stays locked until someone calls ``retry``), and has no delay, no
  backoff, no names.
- **persist-queue** (``SQLiteAckQueue``) resets unacknowledged items when a queue is *opened*
  (``auto_resume``), so a second process opening the file would run a task the first is still
  running; no delay, no names, threads only.

What this service needs is the Cloud Tasks contract on one machine: a task leased to one process at
a time across every process sharing the data folder (``BEGIN IMMEDIATE`` claims), delivered again
when the lease of a dead process runs out, retried with Cloud Tasks' backoff, failed for good after
the last attempt with its last error, and named so that enqueueing twice is a no-op. Times come
from the service's :class:`~virtuoso_api.kit.clock.Clock`, so tests move time instead of sleeping.

Finished tasks are kept for :data:`KEEP_FINISHED` (their names stay taken, as Cloud Tasks keeps a
name for a while after the task ran) and then purged.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from virtuoso_api.infra.sqlite_files import SerialConnection
from virtuoso_api.infra.tasks.port import NewTask, QueueDepth, QueueReport, TaskRetry, queue_name
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp

KEEP_FINISHED: Final = timedelta(days=1)
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS tasks (
    name        TEXT PRIMARY KEY,
    queue       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    state       TEXT NOT NULL CHECK (state IN ('waiting', 'leased', 'done', 'failed')),
    due_at      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS tasks_waiting ON tasks (state, rank DESC, due_at);
CREATE INDEX IF NOT EXISTS tasks_leased ON tasks (state, lease_until);
"""


@dataclass(frozen=True, slots=True)
class LeasedTask:
    name: str
    queue: str
    kind: str
    payload: dict[str, Any]
    attempt: int


@dataclass(frozen=True, slots=True)
class StoredTask:
    """A task as the file holds it (for tests and operators)."""

    name: str
    queue: str
    state: str
    attempts: int
    due_at: str
    last_error: str | None


class SqliteTaskQueue:
    """See the module docstring. Every method is one transaction on the shared file."""

    backend = "local"

    def __init__(self, path: Path, *, clock: Clock, retry: TaskRetry, prefix: str = "virtuoso") -> None:
        self._clock = clock
        self.retry = retry
        self._prefix = prefix
        # synchronous NORMAL: in WAL mode, safe against a process crash (the failure leases are for).
        self._file = SerialConnection(
            path, schema=_SCHEMA, backend="tasks", what="the local task queue file", synchronous="NORMAL"
        )
        #: Set when this process enqueues, so its dispatcher need not wait for the next poll.
        self.arrived = asyncio.Event()

    def _at(self, seconds: float = 0.0) -> str:
        return format_timestamp(self._clock.now() + timedelta(seconds=seconds))

    async def enqueue(self, task: NewTask) -> bool:
        payload = json.dumps(task.payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        row = (
            task.name,
            queue_name(self._prefix, task.kind, task.priority),
            task.kind,
            1 if task.priority == "high" else 0,
            payload,
            self._at(task.delay_seconds),
            self._at(),
        )

        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO tasks (name, queue, kind, rank, payload, state, due_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?)",
                row,
            )
            return cursor.rowcount == 1

        created = await self._file.run(work, write=True)
        if created:
            self.arrived.set()
        return created

    async def claim(self, owner: str, lease_seconds: float) -> LeasedTask | None:
        """Lease the next due task to ``owner``: high priority first, then the longest due. A lease
        that ran out (its process died or stalled) is taken back first; if that was the last
        attempt, the task fails for good instead."""
        now, until = self._at(), self._at(lease_seconds)
        max_attempts = self.retry.max_attempts

        def work(connection: sqlite3.Connection) -> LeasedTask | None:
            connection.execute(
                "UPDATE tasks SET state = 'failed', finished_at = ?, lease_owner = NULL, lease_until = NULL, "
                "last_error = 'attempt ' || attempts || ' stopped without an answer (its lease ran out)' "
                "WHERE state = 'leased' AND lease_until <= ? AND attempts >= ?",
                (now, now, max_attempts),
            )
            row = connection.execute(
                "SELECT name FROM tasks WHERE state = 'leased' AND lease_until <= ? LIMIT 1", (now,)
            ).fetchone()
            if row is None:
                row = connection.execute(
                    "SELECT name FROM tasks WHERE state = 'waiting' AND due_at <= ? "
                    "ORDER BY rank DESC, due_at LIMIT 1",
                    (now,),
                ).fetchone()
            if row is None:
                return None
            name, queue, kind, payload, attempts = connection.execute(
                "UPDATE tasks SET state = 'leased', lease_owner = ?, lease_until = ?, "
                "attempts = attempts + 1 WHERE name = ? RETURNING name, queue, kind, payload, attempts",
                (owner, until, row[0]),
            ).fetchone()
            return LeasedTask(name, queue, kind, json.loads(payload), attempts)

        return await self._file.run(work, write=True)

    async def renew(self, name: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease; ``False`` if it is no longer ``owner``'s (it ran out and was taken)."""
        until = self._at(lease_seconds)
        return await self._file.run(
            lambda c: (
                c.execute(
                    "UPDATE tasks SET lease_until = ? "
                    "WHERE name = ? AND state = 'leased' AND lease_owner = ?",
                    (until, name, owner),
                ).rowcount
                == 1
            ),
            write=True,
        )

    async def complete(self, name: str, owner: str) -> bool:
        return await self._finish(name, owner, "done", None)

    async def fail(self, name: str, owner: str, error: str) -> bool:
        return await self._finish(name, owner, "failed", error)

    async def _finish(self, name: str, owner: str, state: str, error: str | None) -> bool:
        now = self._at()
        return await self._file.run(
            lambda c: (
                c.execute(
                    "UPDATE tasks SET state = ?, finished_at = ?, last_error = COALESCE(?, last_error), "
                    "lease_owner = NULL, lease_until = NULL "
                    "WHERE name = ? AND state = 'leased' AND lease_owner = ?",
                    (state, now, error, name, owner),
                ).rowcount
                == 1
            ),
            write=True,
        )

    async def retry_later(self, name: str, owner: str, error: str, *, at_least: float | None = None) -> bool:
        """After a failed attempt: wait the backoff (or ``at_least``, if longer), or fail for good
        after the last attempt. ``False`` if ``owner`` no longer held the lease."""
        retry = self.retry

        def work(connection: sqlite3.Connection) -> bool:
            row = connection.execute(
                "SELECT attempts FROM tasks WHERE name = ? AND state = 'leased' AND lease_owner = ?",
                (name, owner),
            ).fetchone()
            if row is None:
                return False
            attempts = int(row[0])
            if attempts >= retry.max_attempts:
                connection.execute(
                    "UPDATE tasks SET state = 'failed', finished_at = ?, last_error = ?, lease_owner = NULL, "
                    "lease_until = NULL WHERE name = ?",
                    (self._at(), error, name),
                )
                return True
            wait = max(retry.backoff(attempts), at_least or 0.0)
            connection.execute(
                "UPDATE tasks SET state = 'waiting', due_at = ?, last_error = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE name = ?",
                (self._at(wait), error, name),
            )
            return True

        return await self._file.run(work, write=True)

    async def release(self, name: str, owner: str) -> None:
        """Hand back a task this process will not finish (shutting down): due now, attempt not counted."""
        await self._file.run(
            lambda c: c.execute(
                "UPDATE tasks SET state = 'waiting', attempts = MAX(attempts - 1, 0), lease_owner = NULL, "
                "lease_until = NULL WHERE name = ? AND state = 'leased' AND lease_owner = ?",
                (name, owner),
            ),
            write=True,
        )

    async def get(self, name: str) -> StoredTask | None:
        row = await self._file.run(
            lambda c: c.execute(
                "SELECT name, queue, state, attempts, due_at, last_error FROM tasks WHERE name = ?", (name,)
            ).fetchone()
        )
        return None if row is None else StoredTask(*row)

    async def report(self) -> QueueReport:
        rows = await self._file.run(
            lambda c: c.execute(
                "SELECT queue, state, COUNT(*) FROM tasks WHERE state != 'done' GROUP BY queue, state"
            ).fetchall()
        )
        counts: dict[str, dict[str, int]] = {}
        for queue, state, count in rows:
            counts.setdefault(queue, {})[state] = int(count)
        return QueueReport(
            self.backend,
            [
                QueueDepth(queue, c.get("waiting", 0), c.get("leased", 0), c.get("failed", 0))
                for queue, c in sorted(counts.items())
            ],
        )

    async def purge_finished(self) -> int:
        """Forget tasks that finished more than :data:`KEEP_FINISHED` ago (their names free again)."""
        before = format_timestamp(self._clock.now() - KEEP_FINISHED)
        return await self._file.run(
            lambda c: (
                c.execute(
                    "DELETE FROM tasks WHERE state IN ('done', 'failed') AND finished_at < ?", (before,)
                ).rowcount
            ),
            write=True,
        )

    async def ping(self) -> None:
        await self._file.run(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._file.close()
