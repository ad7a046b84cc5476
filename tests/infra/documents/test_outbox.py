"""The outbox's documents channel: writes accepted while the primary store is down reach it later,
once each, in order; the pending count is stored, not counted."""

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
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.infra.documents.writes import OutboxWrites, decode_operation, encode_operation
from virtuoso_api.infra.outbox import Outbox, SqliteOutboxLog
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
async def log(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteOutboxLog]:
    opened = SqliteOutboxLog(tmp_path / "outbox.sqlite3", clock=clock)
    yield opened
    await opened.close()


@pytest.fixture
async def primary(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "primary.sqlite3", clock=clock)
    yield store
    await store.close()


def writes_to(primary: DocumentStore, log: SqliteOutboxLog) -> tuple[Outbox, OutboxWrites]:
    outbox = Outbox(log)
    return outbox, OutboxWrites(primary, outbox)


async def queue(log: SqliteOutboxLog, operations: list[WriteOp]) -> None:
    await log.append("documents", {"ops": [encode_operation(op) for op in operations]})


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
    private_emulator: FirestoreEmulator, log: SqliteOutboxLog, clock: ManualClock
) -> None:
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
    from virtuoso_api.infra.documents.firestore_calls import make_client
    from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget

    project = "demo-outbox"
    client = make_client(project, emulator_host=private_emulator.host)
    remote = RemoteCall(
        "firestore",
        # Room enough for a loaded machine while the emulator is up; once it is down, the open
        # circuit answers every later write at once (time moves only when the test says so).
        budget=RetryBudget(deadline_seconds=8.0, attempt_seconds=4.0),
        breaker=CircuitBreaker("firestore", clock=clock, cooldown=timedelta(seconds=5)),
    )
    primary = FirestoreDocumentStore(client, clock=clock, remote=remote)
    outbox, writes = writes_to(primary, log)
    try:
        for i in range(5):  # the backend is up: each write lands directly
            await writes.write(record(i))
            assert await log.pending() == 0
            assert await primary.get("events", f"e{i:03}") == Document(f"e{i:03}", {"seq": i})

        private_emulator.stop(keep=project)
        for i in range(5, 15):  # down: accepted all the same, and queued
            await writes.write(record(i))
            assert await log.pending() == i - 4
        assert await outbox.flush() == 0  # still down: nothing lands, nothing is lost
        assert await log.pending() == 10

        private_emulator.start()  # same port, same data
        landed = 0

        async def drained() -> bool:
            nonlocal landed
            clock.advance(timedelta(seconds=6))  # past the circuit's cooldown
            landed += await outbox.flush()  # the channel may take a moment to reconnect
            return await log.pending() == 0

        await eventually(drained, within=90, every=0.5)
        assert landed == 10
        assert await writes.channel.dead_letters() == []
        await assert_all_landed_once(primary, 15)
        await assert_landed_in_writing_order(project, private_emulator.host, range(5, 15))

        await writes.write(record(15))  # back to writing directly
        assert await log.pending() == 0
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
    primary: SqliteDocumentStore, log: SqliteOutboxLog
) -> None:
    outbox, writes = writes_to(primary, log)
    await writes.write(record(0))
    holder = sqlite3.connect(primary.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a long migration in another process would do
    try:
        # The first write waits out SQLite's busy timeout, then is queued; the rest queue behind it.
        for i in range(1, 6):
            await writes.write(record(i))
        assert await log.pending() == 5
        assert await primary.get("events", "e001") is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await outbox.flush() == 5
    assert await log.pending() == 0
    await assert_all_landed_once(primary, 6)


# -- the log's own rules ---------------------------------------------------------------------------


async def test_entries_keep_acceptance_order_across_restarts_and_clock_steps(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "outbox.sqlite3"
    first = SqliteOutboxLog(path, clock=clock)
    seqs = [await first.append("documents", {"i": i}) for i in range(3)]
    await first.close()
    clock.advance(-timedelta(days=1))  # a clock set back while the service was down
    second = SqliteOutboxLog(path, clock=clock)
    try:
        seqs.append(await second.append("documents", {"i": 3}))
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == 4
        assert [entry.payload for entry in await second.head("documents")] == [{"i": i} for i in range(4)]
        assert await second.pending() == 4
    finally:
        await second.close()


async def test_the_pending_count_is_stored_with_each_append_and_removal(
    tmp_path: Path, log: SqliteOutboxLog
) -> None:
    for i in range(3):
        await log.append("documents", {"i": i})
    await log.append("events", {"i": 0})
    (first, *_) = await log.head("documents")
    await log.remove(first.seq)
    await log.dead_letter((await log.head("documents"))[0], "refused")
    counts = sqlite3.connect(tmp_path / "outbox.sqlite3").execute("SELECT channel, pending FROM counts")
    assert dict(counts.fetchall()) == {"documents": 1, "events": 1}
    assert (await log.pending("documents"), await log.pending()) == (1, 2)


async def test_operations_round_trip_exactly() -> None:
    operations: list[WriteOp] = [
        Put("rows", "a", {"n": 1, "nested": {"x": [1, None]}}, START + timedelta(hours=1)),
        Put("rows", "b", {}),
        Patch("rows", "a", {"n": 2}),  # expiry left as it is
        Patch("rows", "a", {"n": 3}, expires_at=None),  # expiry cleared
        Patch("rows", "a", {"n": 4}, expires_at=START + timedelta(days=1)),
        Remove("rows", "b"),
        Remove("rows", "c", expect={"begun": "4f2a"}),
    ]
    assert [decode_operation(encode_operation(op)) for op in operations] == operations


async def test_invalid_writes_are_refused_before_they_are_queued(
    primary: SqliteDocumentStore, log: SqliteOutboxLog
) -> None:
    await queue(log, record(0))  # something is queued: new writes go to the outbox
    _, writes = writes_to(primary, log)
    with pytest.raises(ValueError, match="reserved"):
        await writes.write([Put("rows", "x", {"expires_at": "no"})])
    with pytest.raises(ValueError, match="invalid document id"):
        await writes.write([Remove("rows", "a/b")])
    assert await log.pending() == 1


async def test_a_write_refused_for_good_is_set_aside_and_the_rest_flow(
    primary: SqliteDocumentStore, log: SqliteOutboxLog
) -> None:
    outbox, writes = writes_to(primary, log)
    await queue(log, record(0))
    await queue(log, [Patch("rows", "never-created", {"a": 1})])
    for i in range(1, 4):
        await queue(log, record(i))
    assert await outbox.flush() == 4
    assert await log.pending() == 0
    await assert_all_landed_once(primary, 4)
    (dead,) = await writes.channel.dead_letters()
    assert [decode_operation(op) for op in dead.entry.payload["ops"]] == [
        Patch("rows", "never-created", {"a": 1})
    ]
    assert "does not exist" in dead.reason


async def test_concurrent_flushes_replay_each_write_once(
    primary: SqliteDocumentStore, log: SqliteOutboxLog
) -> None:
    outbox, _ = writes_to(primary, log)
    for i in range(30):
        await queue(log, record(i))
    landed = await asyncio.gather(*(outbox.flush() for _ in range(5)))
    assert sum(landed) == 30  # a write replayed twice would count twice
    await assert_all_landed_once(primary, 30)


async def test_a_flusher_elsewhere_holds_the_lease(
    primary: SqliteDocumentStore, log: SqliteOutboxLog, clock: ManualClock
) -> None:
    outbox, _ = writes_to(primary, log)
    await queue(log, record(0))
    assert await log.take_lease("another-process", seconds=60)
    assert await outbox.flush() == 0
    assert await log.pending() == 1
    clock.advance(timedelta(seconds=61))  # that process died; its lease runs out
    assert await outbox.flush() == 1
    assert await log.take_lease("another-process", seconds=60)  # and ours was given back
