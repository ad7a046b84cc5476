"""The outbox: writes accepted while the primary store is down reach it later, once each, in order."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.firestore_emulator import FirestoreEmulator, emulator_or_skip
from tests.infra.documents.conftest import START
from virtuoso_api.infra.documents import (
    Document,
    DocumentStore,
    Patch,
    Put,
    Query,
    Remove,
    WriteOp,
)
from virtuoso_api.infra.documents.outbox import Outbox, OutboxWriter
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import ManualClock


def record(i: int) -> list[WriteOp]:
    """One accepted write: an event, plus patches that only succeed if the writes before it landed."""
    operations: list[WriteOp] = [Put("events", f"e{i:03}", {"seq": i})]
    if i == 0:
        operations.append(Put("state", "log", {"first": 0}))
    operations.append(Patch("state", "log", {f"w{i:03}": i, "last": i}))
    return operations


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, every: float = 0.2) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "the condition was never met"
        await asyncio.sleep(every)


async def assert_all_landed_once(primary: DocumentStore, count: int) -> None:
    events = (await primary.query(Query("events", order_by="seq", limit=1000))).documents
    assert [doc.id for doc in events] == [f"e{i:03}" for i in range(count)]
    assert [doc.data for doc in events] == [{"seq": i} for i in range(count)]
    log = await primary.get("state", "log")
    assert log is not None
    assert log.data == {"first": 0, "last": count - 1, **{f"w{i:03}": i for i in range(count)}}


@pytest.fixture
async def local(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "local.sqlite3", clock=clock)
    yield store
    await store.close()


@pytest.fixture
async def primary(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "primary.sqlite3", clock=clock)
    yield store
    await store.close()


# -- Firestore (the emulator) as primary, stopped and restarted for real -----------------------------


@pytest.fixture
def private_emulator(tmp_path: Path) -> Any:
    emulator = FirestoreEmulator(emulator_or_skip(), tmp_path / "emulator")
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.mark.firestore
@pytest.mark.timeout(180)
async def test_writes_survive_a_firestore_outage(
    private_emulator: FirestoreEmulator, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
    from virtuoso_api.infra.documents.firestore_calls import RetryPolicy, make_client

    project = "demo-outbox"
    client = make_client(project, emulator_host=private_emulator.host)
    policy = RetryPolicy(attempt_seconds=1.0, total_seconds=1.5)
    primary = FirestoreDocumentStore(client, clock=clock, policy=policy)
    outbox = Outbox(local, clock=clock)
    writer = OutboxWriter(primary, outbox)
    try:
        for i in range(5):  # the backend is up: each write lands directly
            await writer.write(record(i))
            assert await writer.pending() == 0
            assert await primary.get("events", f"e{i:03}") == Document(f"e{i:03}", {"seq": i})

        private_emulator.stop(keep=project)
        written = 0
        for i in range(5, 15):  # down: accepted all the same, and queued
            await writer.write(record(i))
            written += len(record(i))
            assert await writer.pending() == written
        assert await writer.flush() == 0  # still down: nothing lands, nothing is lost
        assert await writer.pending() == written

        private_emulator.start()  # same port, same data

        landed = 0

        async def drained() -> bool:
            nonlocal landed
            landed += await writer.flush()  # the channel may take a moment to reconnect
            return await writer.pending() == 0

        await eventually(drained, within=90, every=0.5)
        assert landed == written
        assert await outbox.is_empty()
        assert await outbox.dead_letters() == []
        await assert_all_landed_once(primary, 15)
        await assert_landed_in_writing_order(project, private_emulator.host, range(5, 15))

        await writer.write(record(15))  # back to writing directly
        assert await writer.pending() == 0
        await assert_all_landed_once(primary, 16)
    finally:
        await primary.close()


async def assert_landed_in_writing_order(project: str, host: str, replayed: range) -> None:
    """Each replayed write was its own commit, committed in the order it was written."""
    from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
    from virtuoso_api.infra.documents.firestore_calls import make_client

    client = make_client(project, emulator_host=host)
    try:
        created = [
            (await client.collection("events").document(f"e{i:03}").get()).create_time for i in replayed
        ]
    finally:
        await FirestoreDocumentStore(client, clock=ManualClock()).close()
    assert created == sorted(created)
    assert len(set(created)) == len(created)


# -- SQLite as primary, made unavailable by another connection holding its write lock ----------------


@pytest.mark.timeout(120)
async def test_writes_survive_a_locked_sqlite_primary(
    primary: SqliteDocumentStore, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    writer = OutboxWriter(primary, Outbox(local, clock=clock))
    await writer.write(record(0))
    holder = sqlite3.connect(primary.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a long migration in another process would do
    try:
        # The first write waits out SQLite's busy timeout, then is queued; the rest queue behind it.
        for i in range(1, 6):
            await writer.write(record(i))
        assert await writer.pending() == sum(len(record(i)) for i in range(1, 6))
        assert await primary.get("events", "e001") is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await writer.flush() == sum(len(record(i)) for i in range(1, 6))
    assert await writer.pending() == 0
    await assert_all_landed_once(primary, 6)


# -- the outbox's own rules, over two SQLite files ------------------------------------------------


async def test_entries_keep_append_order_across_restarts_and_clock_steps(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "local.sqlite3"
    first = SqliteDocumentStore(path, clock=clock)
    ids = [await Outbox(first, clock=clock).append(record(i)) for i in range(3)]
    await first.close()
    clock.advance(-timedelta(days=1))  # a clock set back while the service was down
    second = SqliteDocumentStore(path, clock=clock)
    try:
        outbox = Outbox(second, clock=clock)
        ids.append(await outbox.append(record(3)))
        assert ids == sorted(ids)
        assert len(set(ids)) == 4
        head = await outbox.head()
        assert [entry.id for entry in head] == ids
        assert [entry.operations for entry in head] == [record(i) for i in range(4)]
    finally:
        await second.close()


async def test_operations_round_trip_exactly(local: SqliteDocumentStore, clock: ManualClock) -> None:
    operations: list[WriteOp] = [
        Put("rows", "a", {"n": 1, "nested": {"x": [1, None]}}, START + timedelta(hours=1)),
        Put("rows", "b", {}),
        Patch("rows", "a", {"n": 2}),  # expiry left as it is
        Patch("rows", "a", {"n": 3}, expires_at=None),  # expiry cleared
        Patch("rows", "a", {"n": 4}, expires_at=START + timedelta(days=1)),
        Remove("rows", "b"),
    ]
    outbox = Outbox(local, clock=clock)
    await outbox.append(operations)
    (entry,) = await outbox.head()
    assert entry.operations == operations


async def test_invalid_writes_are_refused_before_they_are_queued(
    primary: SqliteDocumentStore, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    outbox = Outbox(local, clock=clock)
    await outbox.append(record(0))  # something is queued: new writes go to the outbox
    writer = OutboxWriter(primary, outbox)
    with pytest.raises(ValueError, match="reserved"):
        await writer.write([Put("rows", "x", {"expires_at": "no"})])
    with pytest.raises(ValueError, match="invalid document id"):
        await writer.write([Remove("rows", "a/b")])
    assert await writer.pending() == len(record(0))


async def test_a_write_refused_for_good_is_set_aside_and_the_rest_flow(
    primary: SqliteDocumentStore, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    outbox = Outbox(local, clock=clock)
    writer = OutboxWriter(primary, outbox)
    await outbox.append(record(0))
    await outbox.append([Patch("rows", "never-created", {"a": 1})])
    for i in range(1, 4):
        await outbox.append(record(i))
    assert await writer.flush() == sum(len(record(i)) for i in range(4))
    assert await writer.pending() == 0
    await assert_all_landed_once(primary, 4)
    ((dead, reason),) = await outbox.dead_letters()
    assert dead.operations == [Patch("rows", "never-created", {"a": 1})]
    assert "does not exist" in reason


async def test_concurrent_flushes_replay_each_write_once(
    primary: SqliteDocumentStore, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    outbox = Outbox(local, clock=clock)
    writer = OutboxWriter(primary, outbox)
    for i in range(30):
        await outbox.append(record(i))
    total = sum(len(record(i)) for i in range(30))
    landed = await asyncio.gather(*(writer.flush() for _ in range(5)))
    assert sum(landed) == total  # a write replayed twice would count twice
    await assert_all_landed_once(primary, 30)


async def test_a_flusher_elsewhere_holds_the_lease(
    primary: SqliteDocumentStore, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    outbox = Outbox(local, clock=clock)
    await outbox.append(record(0))
    assert await outbox.take_lease("another-process", seconds=60)
    writer = OutboxWriter(primary, outbox)
    assert await writer.flush() == 0
    assert await writer.pending() == len(record(0))
    clock.advance(timedelta(seconds=61))  # that process died; its lease runs out
    assert await writer.flush() == len(record(0))
    assert await outbox.take_lease("another-process", seconds=60)  # and ours was given back


async def test_the_background_flusher_drains_the_outbox(
    primary: SqliteDocumentStore, local: SqliteDocumentStore, clock: ManualClock
) -> None:
    outbox = Outbox(local, clock=clock)
    writer = OutboxWriter(primary, outbox)
    for i in range(3):
        await outbox.append(record(i))
    task = asyncio.create_task(writer.run_flusher(0.05))
    try:

        async def drained() -> bool:
            return await writer.pending() == 0

        await eventually(drained, within=10, every=0.05)
        await writer.write(record(3))  # while the flusher runs, direct writes still land
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await assert_all_landed_once(primary, 4)
