"""SQLite plumbing shared by every local file: the documents store, the outbox's log, the local task
queue and the local events log.

Each opens its file in WAL mode with a busy timeout, writes in ``BEGIN IMMEDIATE`` transactions (so
other processes on the same file, the CLI beside a running server, wait their turn instead of failing
half-way), and runs each operation as one plain function: on the event loop when it is quick and the
file is free, in a worker thread otherwise (:class:`GuardedConnection`).
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


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLite's SQLITE_BUSY (another connection holds the lock), in any of its extended forms."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class GuardedConnection:
    """One connection, used by one call at a time: on the event loop when it can be, in a worker thread
    when it must.

    Why not always a thread: a small statement (a row by key, one insert) takes tens of microseconds,
    and handing it to a worker thread and back cost several times that in CPU (measured: a fifth of
    the service's CPU per command went to thread hand-offs). So a ``quick`` call runs on the loop,
    with SQLite's busy timeout at zero so it can never wait there: if another connection holds the
    lock (the CLI beside a running server), it fails at once, rolls back and is run again in a
    worker thread with the full busy timeout. Calls that are slow by nature (a query that scans, a
    purge), and writes on a connection with ``synchronous = FULL`` (an fsync per commit, about a
    millisecond here), always go to a thread.

    A caller cancelled while its function runs in a thread does not stop the thread, so the connection
    is held by a thread lock as well: a later call on the loop that finds it taken goes to a thread
    and waits there, and :meth:`close` waits for it too (closing a connection a thread is using
    crashes the process)."""

    def __init__(self, connection: sqlite3.Connection, *, synchronous: str = "NORMAL") -> None:
        self.connection = connection
        self._in_use = threading.Lock()
        self._fsyncs = synchronous.upper() in ("FULL", "EXTRA")
        connection.execute("PRAGMA busy_timeout = 0")  # raised only for the calls made in a thread
        self.inline_calls = 0  # calls that ran on the loop: tests and the benchmark read it

    async def run(
        self, work: Callable[[sqlite3.Connection], T], *, write: bool = False, quick: bool = False
    ) -> T:
        """``work(connection)``, in an :func:`immediate` transaction when it writes."""
        if quick and not (write and self._fsyncs):
            # One pass of the event loop first, as the thread hand-off gave: a chain of quick calls
            # (a batch into the in-process sandbox, which never waits on a socket) must not hold the
            # loop from every other request until it ends.
            await asyncio.sleep(0)
        if quick and not (write and self._fsyncs) and self._in_use.acquire(blocking=False):
            try:
                result = self._call(work, write)
                self.inline_calls += 1
                return result
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
            finally:
                self._in_use.release()
        return await asyncio.to_thread(self._waiting, work, write)

    def _call(self, work: Callable[[sqlite3.Connection], T], write: bool) -> T:
        return immediate(self.connection, work) if write else work(self.connection)

    def _waiting(self, work: Callable[[sqlite3.Connection], T], write: bool) -> T:
        with self._in_use:
            self.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            try:
                return self._call(work, write)
            finally:
                self.connection.execute("PRAGMA busy_timeout = 0")

    async def close(self) -> None:
        def close_when_free() -> None:
            with self._in_use:
                self.connection.close()

        await asyncio.to_thread(close_when_free)


class SerialConnection:
    """One connection to a small SQLite file of its own (the outbox's log, the local task queue, the
    local events log), used by one call at a time (a :class:`GuardedConnection`): on the loop when
    the caller says the call is ``quick``, in a worker thread otherwise; in an :func:`immediate`
    transaction when it writes. A SQLite failure becomes :class:`BackendUnavailable` for
    ``backend``, saying ``what`` failed."""

    def __init__(
        self, path: Path, *, schema: str, backend: str, what: str, synchronous: str = "FULL"
    ) -> None:
        private_dir(path.parent)
        private_file(path)
        connection = connect(path, synchronous=synchronous)
        connection.executescript(schema)
        self._file = GuardedConnection(connection, synchronous=synchronous)
        self._lock = asyncio.Lock()
        self._backend = backend
        self._what = what

    @property
    def inline_calls(self) -> int:
        return self._file.inline_calls

    async def run(
        self, work: Callable[[sqlite3.Connection], T], *, write: bool = False, quick: bool = False
    ) -> T:
        async with self._lock:
            try:
                return await self._file.run(work, write=write, quick=quick)
            except sqlite3.DatabaseError as exc:  # closed too: "Cannot operate on a closed database"
                raise BackendUnavailable(self._backend, f"{self._what} failed: {exc}") from exc

    async def close(self) -> None:
        async with self._lock:
            await self._file.close()
