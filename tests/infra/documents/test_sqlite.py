"""What only the SQLite adapter has: one file shared by tasks and processes, and its schema versions."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.infra.documents.conftest import START
from virtuoso_api.infra.documents import Document, DocumentAlreadyExists, Query
from virtuoso_api.infra.documents._sqlite_schema import SCHEMA_VERSION, SchemaTooNew
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import ManualClock


def user_version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        return int(version)
    finally:
        connection.close()


async def test_many_tasks_write_at_once(tmp_path: Path, clock: ManualClock) -> None:
    store = SqliteDocumentStore(tmp_path / "db.sqlite3", clock=clock)

    async def writer(n: int) -> int:
        wins = 0
        for i in range(20):
            await store.put("rows", f"w{n:02}-{i:02}", {"writer": n, "i": i})
            try:
                await store.create("contested", f"c{i:02}", {"writer": n})
                wins += 1
            except DocumentAlreadyExists:
                pass
        return wins

    try:
        wins = await asyncio.gather(*(writer(n) for n in range(30)))
        assert sum(wins) == 20  # every contested id created exactly once
        rows = await store.query(Query("rows", limit=1000))
        assert len(rows.documents) == 30 * 20
        assert rows.next_cursor is None
    finally:
        await store.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from virtuoso_api.infra.documents import DocumentAlreadyExists
    from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
    from virtuoso_api.kit.clock import SystemClock

    path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])

    async def main() -> None:
        Path(f"{go}.{name}.ready").touch()
        while not go.exists():  # start together, to collide on the schema and the write lock
            time.sleep(0.005)
        store = SqliteDocumentStore(path, clock=SystemClock())
        wins = 0
        for i in range(150):
            await store.put("rows", f"{name}-{i:03}", {"by": name, "i": i})
            try:
                await store.create("contested", f"c{i:03}", {"by": name})
                wins += 1
            except DocumentAlreadyExists:
                pass
        await store.close()
        print(wins)

    asyncio.run(main())
    """
)


async def test_processes_write_the_same_file_at_once(tmp_path: Path, clock: ManualClock) -> None:
    path, go = tmp_path / "shared.sqlite3", tmp_path / "go"
    names = ["p1", "p2", "p3"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(go)], stdout=subprocess.PIPE, text=True
        )
        for name in names
    ]
    try:
        deadline = time.monotonic() + 30
        while not all(Path(f"{go}.{name}.ready").exists() for name in names):
            assert time.monotonic() < deadline, "the writer processes did not start"
            await asyncio.sleep(0.01)
        go.touch()
        outputs = [await asyncio.to_thread(p.communicate, timeout=50) for p in processes]
    finally:
        for process in processes:
            process.kill() if process.poll() is None else None
    assert [p.returncode for p in processes] == [0, 0, 0]
    assert sum(int(stdout) for stdout, _ in outputs) == 150  # each contested id created once
    store = SqliteDocumentStore(path, clock=clock)
    try:
        rows = await store.query(Query("rows", limit=1000))
        assert sorted(doc.id for doc in rows.documents) == sorted(
            f"{name}-{i:03}" for name in names for i in range(150)
        )
    finally:
        await store.close()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    assert user_version(path) == SCHEMA_VERSION


async def test_a_new_file_gets_the_current_schema(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "deep" / "folder" / "new.sqlite3"
    store = SqliteDocumentStore(path, clock=clock)
    await store.close()
    assert user_version(path) == SCHEMA_VERSION


async def test_an_empty_database_is_migrated(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    assert user_version(path) == 0
    store = SqliteDocumentStore(path, clock=clock)
    try:
        await store.put("rows", "x", {"a": 1})
    finally:
        await store.close()
    assert user_version(path) == SCHEMA_VERSION


async def test_a_file_from_a_newer_release_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "newer.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(SchemaTooNew, match=rf"schema version {SCHEMA_VERSION + 1}, newer .* upgrade"):
        SqliteDocumentStore(path, clock=clock)
    assert user_version(path) == SCHEMA_VERSION + 1  # left as it was


async def test_data_survive_closing_and_reopening(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "kept.sqlite3"
    expires = START + timedelta(days=2)
    first = SqliteDocumentStore(path, clock=clock)
    await first.put("sessions", "s", {"user": "u", "n": 1}, expires_at=expires)
    await first.patch("sessions", "s", {"n": 2})
    await first.put("cache", "gone", {"v": 1}, expires_at=START + timedelta(minutes=1))
    await first.close()
    clock.advance(timedelta(hours=1))
    second = SqliteDocumentStore(path, clock=clock)
    try:
        assert await second.get("sessions", "s") == Document("s", {"user": "u", "n": 2}, expires)
        assert await second.get("cache", "gone") is None
        assert await second.delete_expired("cache") == 1
    finally:
        await second.close()
    assert user_version(path) == SCHEMA_VERSION


async def test_a_read_cancelled_mid_thread_keeps_its_connection_until_the_thread_ends(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The reader went back to the pool when its caller was cancelled, while its thread still used it;
    closing the store then closed it under that thread."""
    store = SqliteDocumentStore(tmp_path / "db.sqlite3", clock=clock, readers=1)
    await store.put("notes", "n1", {"text": "kept"})
    entered, release = threading.Event(), threading.Event()
    finished: list[object] = []

    def slow_read(connection: sqlite3.Connection) -> None:
        entered.set()
        release.wait(10)
        try:
            finished.append(connection.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        except sqlite3.Error as exc:  # what a connection closed under the thread says
            finished.append(exc)

    reading = asyncio.create_task(store._read(slow_read))  # a scanning read: it runs in a thread
    await asyncio.to_thread(entered.wait, 10)
    reading.cancel()
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0.05)  # close starts while the thread is still inside the read
    release.set()
    await closing
    assert finished == [1]
    with pytest.raises(asyncio.CancelledError):
        await reading


async def test_a_write_that_finds_the_file_locked_waits_in_a_thread_instead_of_failing(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Quick writes run on the event loop with no busy wait; another process's write lock sends them
    to a worker thread, where the busy timeout lets them wait their turn."""
    path = tmp_path / "db.sqlite3"
    store = SqliteDocumentStore(path, clock=clock)
    await store.put("notes", "n1", {"text": "on the loop"})
    assert store.inline_calls == 1
    other = sqlite3.connect(path, isolation_level=None)  # as the CLI beside a server would hold it
    other.execute("BEGIN IMMEDIATE")
    writing = asyncio.create_task(store.put("notes", "n2", {"text": "after the lock"}))
    await asyncio.sleep(0.2)
    assert not writing.done()  # waiting (in a thread), not failed
    other.execute("COMMIT")
    other.close()
    await writing
    assert store.inline_calls == 1  # the second write went through the thread
    document = await store.get("notes", "n2")
    assert document is not None
    assert document.data == {"text": "after the lock"}
    await store.close()
