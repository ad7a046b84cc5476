"""The outbox's log: one SQLite file beside the embedded store, entries in acceptance order.

A file of its own (not a collection of the documents port): it must keep working while the documents
store is remote and down, it needs a counter kept in the same transaction as each append and removal
(triggers do that), and its entries need a strictly increasing sequence across processes sharing the
file (``INTEGER PRIMARY KEY AUTOINCREMENT`` under ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from virtuoso_api.infra.sqlite_files import SerialConnection
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    accepted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_channel ON entries (channel, seq);
CREATE TABLE IF NOT EXISTS dead (
    seq         INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    reason      TEXT NOT NULL,
    failed_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counts (channel TEXT PRIMARY KEY, pending INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS count_in AFTER INSERT ON entries BEGIN
    INSERT INTO counts (channel, pending) VALUES (NEW.channel, 1)
    ON CONFLICT (channel) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_out AFTER DELETE ON entries BEGIN
    UPDATE counts SET pending = pending - 1 WHERE channel = OLD.channel;
END;
CREATE TABLE IF NOT EXISTS lease (
    id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT NOT NULL, expires_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    channel: str
    payload: Any
    accepted_at: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    entry: LogEntry
    reason: str
    failed_at: str


class SqliteOutboxLog:
    """Entries per channel in order, their dead letters, the pending counts and a flusher lease."""

    def __init__(self, path: Path, *, clock: Clock) -> None:
        self._clock = clock
        self._file = SerialConnection(path, schema=_SCHEMA, backend="outbox", what="the local outbox file")

    def _now(self) -> str:
        return format_timestamp(self._clock.now())

    async def append(self, channel: str, payload: Any) -> int:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

        def work(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                "INSERT INTO entries (channel, payload, accepted_at) VALUES (?, ?, ?)",
                (channel, text, self._now()),
            )
            return int(cursor.lastrowid or 0)

        return await self._file.run(work, write=True)

    async def head(self, channel: str, limit: int = 100) -> list[LogEntry]:
        """The oldest entries of a channel, oldest first."""
        rows = await self._file.run(
            lambda c: c.execute(
                "SELECT seq, channel, payload, accepted_at FROM entries WHERE channel = ? "
                "ORDER BY seq LIMIT ?",
                (channel, limit),
            ).fetchall()
        )
        return [LogEntry(seq, name, json.loads(payload), at) for seq, name, payload, at in rows]

    async def remove(self, seq: int) -> None:
        await self._file.run(lambda c: c.execute("DELETE FROM entries WHERE seq = ?", (seq,)), write=True)

    async def dead_letter(self, entry: LogEntry, reason: str) -> None:
        """Set aside an entry its backend refuses for good, atomically with its removal."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT OR REPLACE INTO dead (seq, channel, payload, accepted_at, reason, failed_at) "
                "SELECT seq, channel, payload, accepted_at, ?, ? FROM entries WHERE seq = ?",
                (reason[:2000], self._now(), entry.seq),
            )
            connection.execute("DELETE FROM entries WHERE seq = ?", (entry.seq,))

        await self._file.run(work, write=True)

    async def dead_letters(self, channel: str, limit: int = 100) -> list[DeadLetter]:
        rows = await self._file.run(
            lambda c: c.execute(
                "SELECT seq, channel, payload, accepted_at, reason, failed_at FROM dead "
                "WHERE channel = ? ORDER BY seq LIMIT ?",
                (channel, limit),
            ).fetchall()
        )
        return [
            DeadLetter(LogEntry(seq, name, json.loads(payload), at), reason, failed)
            for seq, name, payload, at, reason, failed in rows
        ]

    async def pending(self, channel: str | None = None) -> int:
        """Entries waiting (in one channel, or in all): one read of the stored counts."""
        # Quick: every delivery asks first (on the event loop, unless another process holds the file).
        if channel is None:
            row = await self._file.run(
                lambda c: c.execute("SELECT COALESCE(SUM(pending), 0) FROM counts").fetchone(), quick=True
            )
        else:
            row = await self._file.run(
                lambda c: c.execute("SELECT pending FROM counts WHERE channel = ?", (channel,)).fetchone(),
                quick=True,
            )
        return int(row[0]) if row else 0

    # A lease keeps flushers of several processes on one file from replaying the same entries side by
    # side (which could land an old write after a newer one).

    async def take_lease(self, owner: str, seconds: float) -> bool:
        now = self._clock.now()
        until = format_timestamp(now + timedelta(seconds=seconds))

        def work(connection: sqlite3.Connection) -> bool:
            row = connection.execute("SELECT owner, expires_at FROM lease WHERE id = 1").fetchone()
            if row is not None and row[0] != owner and row[1] > format_timestamp(now):
                return False
            connection.execute(
                "INSERT OR REPLACE INTO lease (id, owner, expires_at) VALUES (1, ?, ?)", (owner, until)
            )
            return True

        return await self._file.run(work, write=True)

    async def release_lease(self, owner: str) -> None:
        await self._file.run(lambda c: c.execute("DELETE FROM lease WHERE owner = ?", (owner,)), write=True)

    async def close(self) -> None:
        await self._file.close()
