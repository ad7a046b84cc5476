"""The local events log: one SQLite file in the data folder, consumed through offsets and leases.

Messages are appended with a strictly increasing ``seq`` (``AUTOINCREMENT`` under ``BEGIN IMMEDIATE``,
so processes sharing the file agree). Each subscription keeps an *offset*, the highest ``seq`` it has
taken from the log; a message taken but not yet acked is a *lease* row with its attempt count and the
time it becomes deliverable again (the visibility timeout), read from the service's clock, so tests move
time instead of waiting. A lease that reaches its subscription's attempt limit without an ack moves to
the *dead* table, from where a replay puts it back. Acked messages leave only the log itself, which
also serves as the journal the live stream reads (:meth:`read`), pruned after :data:`RETENTION`.

Why not a queue library: the contract is Pub/Sub's (per-subscription leases, ordering keys, attempt
counts and dead letters) over a file shared by the server and the CLI; persist-queue and friends are
single-consumer FIFOs, and none keeps a readable journal beside the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sqlite3
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from virtuoso_api.infra.events.port import (
    Logged,
    Message,
    Received,
    SubscriptionSpec,
    UnknownSubscription,
    meant_for,
)
from virtuoso_api.infra.sqlite_files import SerialConnection
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp, parse_timestamp

#: How long acked messages stay readable in the journal (the live stream resumes from it).
RETENTION: Final = timedelta(days=7)
# Another process (the CLI beside a server) may publish into the file; a waiting pull looks again this
# often. Publishes in this process wake it at once.
_POLL_SECONDS: Final = 0.25
_SCAN_FACTOR: Final = 4

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    ordering_key TEXT NOT NULL,
    attributes   TEXT NOT NULL CHECK (json_valid(attributes)),
    data         BLOB NOT NULL,
    published_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (published_at);
CREATE TABLE IF NOT EXISTS subscriptions (
    name                 TEXT PRIMARY KEY,
    position             INTEGER NOT NULL,
    max_attempts         INTEGER NOT NULL,
    ack_deadline_seconds INTEGER NOT NULL,
    ordered              INTEGER NOT NULL,
    created_at           TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    subscription TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    ordering_key TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    visible_at   TEXT NOT NULL,
    ack_id       TEXT NOT NULL UNIQUE,
    PRIMARY KEY (subscription, seq)
);
CREATE TABLE IF NOT EXISTS dead (
    subscription TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    died_at      TEXT NOT NULL,
    PRIMARY KEY (subscription, seq)
);
"""


_Row = tuple[int, str, str, str, bytes, str]
_LEASE_COLUMNS: Final = "(subscription, seq, ordering_key, attempts, visible_at, ack_id)"
_COLUMNS: Final = "m.seq, m.id, m.ordering_key, m.attributes, m.data, m.published_at"


def _message(row: _Row) -> Logged:
    seq, message_id, key, attributes, data, published = row
    return Logged(
        seq, Message(message_id, bytes(data), json.loads(attributes), key), parse_timestamp(published)
    )


class SqliteEventLog:
    """:class:`~virtuoso_api.infra.events.port.EventBus` over one SQLite file, and the journal."""

    def __init__(self, path: Path, *, clock: Clock) -> None:
        self._clock = clock
        # synchronous NORMAL: in WAL mode, safe against a process crash (leases redeliver the rest).
        self._file = SerialConnection(
            path, schema=_SCHEMA, backend="events", what="the local events log", synchronous="NORMAL"
        )
        self._published = asyncio.Event()
        self.published = 0  # messages appended by this process: a counter tests and metrics read

    @property
    def backend(self) -> str:
        return "sqlite"

    def _now(self) -> datetime:
        return self._clock.now()

    # -- publishing ------------------------------------------------------------------------------

    async def publish(self, messages: Sequence[Message]) -> None:
        """Append in order. A message whose id the log already holds is not appended again, so a
        publish retried after its answer was lost lands once."""
        if not messages:
            return
        now = format_timestamp(self._now())
        rows = [
            (m.id, m.ordering_key, json.dumps(dict(m.attributes), sort_keys=True), m.data, now)
            for m in messages
        ]

        def work(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "INSERT OR IGNORE INTO messages (id, ordering_key, attributes, data, published_at) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

        # Quick (on the event loop while the file is free): one insert per message, with every command.
        await self._file.run(work, write=True, quick=len(rows) <= 16)
        self.published += len(messages)
        self._published.set()

    # -- subscriptions ---------------------------------------------------------------------------

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        """Create ``spec.name`` at the end of the log (it receives what comes next)."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT OR IGNORE INTO subscriptions "
                "(name, position, max_attempts, ack_deadline_seconds, ordered, created_at) "
                "VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM messages), ?, ?, ?, ?)",
                (
                    spec.name,
                    spec.max_delivery_attempts,
                    spec.ack_deadline_seconds,
                    int(spec.ordered),
                    format_timestamp(self._now()),
                ),
            )

        await self._file.run(work, write=True)

    async def delete_subscription(self, name: str) -> None:
        def work(connection: sqlite3.Connection) -> None:
            for table in ("subscriptions", "leases", "dead"):
                column = "name" if table == "subscriptions" else "subscription"
                connection.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))

        await self._file.run(work, write=True)

    # -- consuming -------------------------------------------------------------------------------

    async def pull(
        self, subscription: str, *, max_messages: int = 100, wait_seconds: float = 0
    ) -> list[Received]:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        deadline = time.monotonic() + wait_seconds
        while True:
            self._published.clear()
            received = await self._file.run(
                lambda c: self._pull_sync(c, subscription, max_messages), write=True
            )
            left = deadline - time.monotonic()
            if received or left <= 0:
                return received
            await self._woken(min(left, _POLL_SECONDS))

    async def _woken(self, seconds: float) -> None:
        """Wait for a publish in this process, ``seconds`` at most. ``asyncio.timeout`` rather than
        ``wait_for``: on Python 3.11 ``wait_for`` can swallow a cancellation that arrives as the event
        is set, and a consumer loop being stopped would then never stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._published.wait()

    def _pull_sync(self, connection: sqlite3.Connection, subscription: str, limit: int) -> list[Received]:
        spec = connection.execute(
            "SELECT position, max_attempts, ack_deadline_seconds, ordered FROM subscriptions WHERE name = ?",
            (subscription,),
        ).fetchone()
        if spec is None:
            raise UnknownSubscription(subscription)
        position, max_attempts, deadline_seconds, ordered = spec
        now = self._now()
        stamp = format_timestamp(now)
        # Leases that ran out of attempts and are due again go to the dead letters instead.
        connection.execute(
            "INSERT OR REPLACE INTO dead (subscription, seq, attempts, died_at) "
            "SELECT subscription, seq, attempts, ? FROM leases "
            "WHERE subscription = ? AND visible_at <= ? AND attempts >= ?",
            (stamp, subscription, stamp, max_attempts),
        )
        connection.execute(
            "DELETE FROM leases WHERE subscription = ? AND visible_at <= ? AND attempts >= ?",
            (subscription, stamp, max_attempts),
        )
        # What this subscription has not taken yet becomes leases not yet delivered (attempts 0), so
        # the position only moves forward and ordering is decided over one set of rows.
        fresh = connection.execute(
            f"SELECT {_COLUMNS} FROM messages m WHERE m.seq > ? ORDER BY m.seq LIMIT ?",
            (position, limit * _SCAN_FACTOR),
        ).fetchall()
        for row in fresh:
            logged = _message(row)
            if meant_for(logged.message, subscription):
                connection.execute(
                    f"INSERT OR IGNORE INTO leases {_LEASE_COLUMNS} VALUES (?, ?, ?, 0, ?, ?)",
                    (subscription, logged.seq, logged.message.ordering_key, stamp, secrets.token_hex(12)),
                )
        if fresh:
            connection.execute(
                "UPDATE subscriptions SET position = ? WHERE name = ?", (fresh[-1][0], subscription)
            )
        leases = connection.execute(
            f"SELECT l.attempts, l.visible_at, {_COLUMNS} FROM leases l JOIN messages m ON m.seq = l.seq "
            "WHERE l.subscription = ? ORDER BY l.seq",
            (subscription,),
        ).fetchall()
        chosen: list[tuple[int, Logged]] = []
        blocked: set[str] = set()
        for attempts, visible_at, *row in leases:
            logged = _message(tuple(row))
            key = logged.message.ordering_key if ordered else ""
            due = visible_at <= stamp and len(chosen) < limit
            if key and key in blocked:
                continue
            if due:
                chosen.append((attempts + 1, logged))
            elif key:
                blocked.add(key)  # in flight or not chosen: later messages of the key wait behind it
        received: list[Received] = []
        visible = format_timestamp(now + timedelta(seconds=deadline_seconds))
        for attempt, logged in chosen:
            ack_id = secrets.token_hex(12)
            connection.execute(
                "UPDATE leases SET attempts = ?, visible_at = ?, ack_id = ? "
                "WHERE subscription = ? AND seq = ?",
                (attempt, visible, ack_id, subscription, logged.seq),
            )
            received.append(Received(ack_id, logged.message, attempt, logged.published_at))
        return received

    async def ack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """End these deliveries. An ack id from an earlier delivery of a message that was handed out
        again since does nothing (the newer delivery holds it)."""
        if not ack_ids:
            return
        await self._file.run(
            lambda c: c.executemany(
                "DELETE FROM leases WHERE subscription = ? AND ack_id = ?",
                [(subscription, a) for a in ack_ids],
            ),
            write=True,
            quick=len(ack_ids) <= 16,
        )

    async def nack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        if not ack_ids:
            return
        stamp = format_timestamp(self._now())
        await self._file.run(
            lambda c: c.executemany(
                "UPDATE leases SET visible_at = ? WHERE subscription = ? AND ack_id = ?",
                [(stamp, subscription, a) for a in ack_ids],
            ),
            write=True,
        )
        self._published.set()  # a waiting pull may take it again now

    async def dead_letters(self, subscription: str, *, limit: int = 100) -> list[Message]:
        rows = await self._file.run(
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM dead d JOIN messages m ON m.seq = d.seq "
                "WHERE d.subscription = ? ORDER BY d.seq LIMIT ?",
                (subscription, limit),
            ).fetchall()
        )
        return [_message(row).message for row in rows]

    async def replay_dead_letters(self, subscription: str, *, limit: int = 100) -> int:
        stamp = format_timestamp(self._now())

        def work(connection: sqlite3.Connection) -> int:
            rows = connection.execute(
                "SELECT d.seq, m.ordering_key FROM dead d JOIN messages m ON m.seq = d.seq "
                "WHERE d.subscription = ? ORDER BY d.seq LIMIT ?",
                (subscription, limit),
            ).fetchall()
            for seq, key in rows:
                connection.execute(
                    f"INSERT OR REPLACE INTO leases {_LEASE_COLUMNS} VALUES (?, ?, ?, 0, ?, ?)",
                    (subscription, seq, key, stamp, secrets.token_hex(12)),
                )
                connection.execute("DELETE FROM dead WHERE subscription = ? AND seq = ?", (subscription, seq))
            return len(rows)

        replayed = await self._file.run(work, write=True)
        self._published.set()
        return replayed

    # -- the journal -----------------------------------------------------------------------------

    async def read(
        self, *, after: int = 0, limit: int = 100, where: Mapping[str, Collection[str]] | None = None
    ) -> list[Logged]:
        """Messages after position ``after``, oldest first; ``where`` keeps those whose attribute
        ``name`` is one of the values given for it."""
        clauses, parameters = ["m.seq > ?"], [after]
        for name, values in (where or {}).items():
            if not values:
                continue
            marks = ", ".join("?" for _ in values)
            clauses.append(f"json_extract(m.attributes, ?) IN ({marks})")
            parameters += [f'$."{name}"', *values]  # type: ignore[list-item]
        sql = f"SELECT {_COLUMNS} FROM messages m WHERE {' AND '.join(clauses)} ORDER BY m.seq LIMIT ?"
        rows = await self._file.run(lambda c: c.execute(sql, (*parameters, limit)).fetchall())
        return [_message(row) for row in rows]

    async def position_of(self, message_id: str) -> int | None:
        row = await self._file.run(
            lambda c: c.execute("SELECT seq FROM messages WHERE id = ?", (message_id,)).fetchone()
        )
        return int(row[0]) if row else None

    async def last_position(self) -> int:
        row = await self._file.run(
            lambda c: c.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()
        )
        return int(row[0])

    async def wait(self, timeout: float) -> None:
        """Return when this process publishes, or after ``timeout`` (another process may have)."""
        self._published.clear()
        await self._woken(min(timeout, _POLL_SECONDS))

    async def prune(self) -> int:
        """Delete messages older than :data:`RETENTION` that no subscription still holds or has yet to
        take; returns how many."""
        cutoff = format_timestamp(self._now() - RETENTION)

        def work(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                "DELETE FROM messages WHERE published_at < ? "
                "AND seq <= (SELECT COALESCE(MIN(position), 9223372036854775807) FROM subscriptions) "
                "AND seq NOT IN (SELECT seq FROM leases) AND seq NOT IN (SELECT seq FROM dead)",
                (cutoff,),
            )
            return cursor.rowcount

        return await self._file.run(work, write=True)

    async def ping(self) -> None:
        await self._file.run(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._file.close()
