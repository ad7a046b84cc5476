"""SQLite plumbing shared by every local file: the documents store, the outbox's log, the local task
queue and the local events log.

Each opens its file in WAL mode with a busy timeout, writes in ``BEGIN IMMEDIATE`` transactions (so
other processes on the same file, the CLI beside a running server, wait their turn instead of failing
half-way), and runs each operation as one plain function in a worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.kit.files import private_dir, private_file

T = TypeVar("T")

BUSY_TIMEOUT_MS: Final = 10_000


def connect(path: Path, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from worker threads."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    use_wal(connection)
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    return connection


def use_wal(connection: sqlite3.Connection) -> None:
    # Switching a file to WAL takes a lock SQLite's busy handler does not wait for, so two processes
    # opening a new file together can collide ("database is locked"). Once one has switched, the file
    # stays in WAL and the pragma is a no-op; until then, try again for as long as the busy timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def immediate(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work`` in one ``BEGIN IMMEDIATE`` transaction: other processes on the file wait their turn
    (busy timeout) instead of failing half-way; rolled back on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result


class SerialConnection:
    """One connection to a small SQLite file of its own (the outbox's log, the local task queue, the
    local events log), used by one call at a time: each call is a plain function run in a worker
    thread, in an :func:`immediate` transaction when it writes. A SQLite failure becomes
    :class:`BackendUnavailable` for ``backend``, saying ``what`` failed.

    A caller cancelled while its function runs does not stop the thread, so the connection is held by
    a thread lock as well as the asyncio one: the next call, and :meth:`close`, wait for that thread
    (closing a connection a thread is using crashes the process)."""

    def __init__(
        self, path: Path, *, schema: str, backend: str, what: str, synchronous: str = "FULL"
    ) -> None:
        private_dir(path.parent)
        private_file(path)
        self._connection = connect(path, synchronous=synchronous)
        self._connection.executescript(schema)
        self._lock = asyncio.Lock()
        self._in_thread = threading.Lock()
        self._backend = backend
        self._what = what

    async def run(self, work: Callable[[sqlite3.Connection], T], *, write: bool = False) -> T:
        def transaction(connection: sqlite3.Connection) -> T:
            with self._in_thread:
                return immediate(connection, work) if write else work(connection)

        async with self._lock:
            try:
                return await asyncio.to_thread(transaction, self._connection)
            except sqlite3.DatabaseError as exc:  # closed too: "Cannot operate on a closed database"
                raise BackendUnavailable(self._backend, f"{self._what} failed: {exc}") from exc

    async def close(self) -> None:
        def close_when_free() -> None:
            with self._in_thread:
                self._connection.close()

        async with self._lock:
            await asyncio.to_thread(close_when_free)
