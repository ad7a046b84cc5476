"""What only the SQLite adapter has: one file shared by tasks and processes, and its schema versions."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
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
