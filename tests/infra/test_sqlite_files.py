"""The shared SQLite plumbing: a call cancelled while its thread still uses the connection.

``asyncio.to_thread`` cannot stop a thread, so a cancelled caller leaves its function running on the
connection. Closing the file then (a shutdown cancelling a dispatcher mid-lease) used to close the
connection under that thread: a crash of the whole process (the gate once died of it, in the tasks
contract suite's teardown)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.sqlite_files import SerialConnection

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (text TEXT NOT NULL);"


async def test_close_waits_for_the_thread_of_a_cancelled_call(tmp_path: Path) -> None:
    file = SerialConnection(tmp_path / "notes.sqlite3", schema=SCHEMA, backend="test", what="the test file")
    entered, release = threading.Event(), threading.Event()
    finished: list[object] = []

    def slow_write(connection: sqlite3.Connection) -> None:
        entered.set()
        release.wait(10)
        try:
            connection.execute("INSERT INTO notes (text) VALUES ('after the cancel')")
            finished.append("written")
        except sqlite3.Error as exc:  # what the connection closed under it says
            finished.append(exc)

    call = asyncio.create_task(file.run(slow_write, write=True))
    await asyncio.to_thread(entered.wait, 10)
    call.cancel()
    closing = asyncio.create_task(file.close())
    await asyncio.sleep(0)  # close starts while the thread is still inside the write
    release.set()
    await closing
    assert finished == ["written"]  # the thread ended its transaction on an open connection
    with pytest.raises(asyncio.CancelledError):
        await call
    with pytest.raises(BackendUnavailable, match="the test file failed"):
        await file.run(lambda c: c.execute("SELECT 1").fetchone())
    reopened = sqlite3.connect(tmp_path / "notes.sqlite3")
    assert reopened.execute("SELECT text FROM notes").fetchall() == [("after the cancel",)]
    reopened.close()


async def test_the_next_call_waits_for_the_thread_of_a_cancelled_one(tmp_path: Path) -> None:
    file = SerialConnection(tmp_path / "notes.sqlite3", schema=SCHEMA, backend="test", what="the test file")
    entered, release = threading.Event(), threading.Event()

    def slow_write(connection: sqlite3.Connection) -> None:
        entered.set()
        release.wait(10)
        connection.execute("INSERT INTO notes (text) VALUES ('first')")

    call = asyncio.create_task(file.run(slow_write, write=True))
    await asyncio.to_thread(entered.wait, 10)
    call.cancel()
    counting = asyncio.create_task(file.run(lambda c: c.execute("SELECT COUNT(*) FROM notes").fetchone()[0]))
    await asyncio.sleep(0)
    release.set()
    # The read ran after the cancelled write committed, never beside it on the one connection.
    assert await counting == 1
    await file.close()
