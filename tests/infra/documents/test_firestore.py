"""What only the Firestore adapter has: its storage layout, its settings, and how it fails."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.firestore_emulator import FirestoreEmulator, emulator_or_skip, live_members
from tests.infra.documents.conftest import START, UNSTORABLE, firestore_settings
from tests.processes import free_port
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents import (
    Document,
    DocumentAlreadyExists,
    DocumentNotFound,
    Put,
    Query,
    build_document_store,
)
from virtuoso_api.kit.clock import ManualClock

pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")

from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
from virtuoso_api.infra.documents.firestore_calls import RetryPolicy, make_client

SHORT = RetryPolicy(attempt_seconds=1.0, total_seconds=2.0)


@pytest.fixture
async def raw(firestore_emulator: FirestoreEmulator, firestore_project: str) -> AsyncIterator[Any]:
    """The official client on the same project, to look at what the adapter stored."""
    client = make_client(firestore_project, emulator_host=firestore_emulator.host)
    yield client
    await FirestoreDocumentStore(client, clock=ManualClock()).close()


@pytest.mark.firestore
async def test_built_from_settings_alone(
    firestore_emulator: FirestoreEmulator, firestore_project: str, tmp_path: Path, raw: Any
) -> None:
    assert "FIRESTORE_EMULATOR_HOST" not in os.environ  # only Settings knows where the emulator is
    settings = firestore_settings(tmp_path, firestore_project, firestore_emulator.host)
    store = await build_document_store(settings, clock=ManualClock(START))
    try:
        assert store.backend == "firestore"
        await store.put("things", "x", {"a": 1})
        await store.ping()
    finally:
        await store.close()
    snapshot = await raw.collection("things").document("x").get()
    assert snapshot.to_dict() == {"a": 1}
    assert not (tmp_path / "data").exists()  # no SQLite file on the side


@pytest.mark.firestore
async def test_data_are_the_fields_and_expiry_a_timestamp_field(
    firestore_emulator: FirestoreEmulator, firestore_project: str, raw: Any
) -> None:
    clock = ManualClock(START)
    store = FirestoreDocumentStore(
        make_client(firestore_project, emulator_host=firestore_emulator.host), clock=clock
    )
    try:
        expires = START + timedelta(hours=1, microseconds=7)
        await store.put("sessions", "s", {"user": "u", "n": 2}, expires_at=expires)
        await store.put("sessions", "forever", {"user": "u"})
        await store.patch("sessions", "forever", {"n": 3})
    finally:
        await store.close()
    stored = (await raw.collection("sessions").document("s").get()).to_dict()
    assert stored.pop("expires_at") == expires  # a timestamp a TTL policy can use, not a string
    assert stored == {"user": "u", "n": 2}
    assert (await raw.collection("sessions").document("forever").get()).to_dict() == {"user": "u", "n": 3}


@pytest.mark.firestore
async def test_an_expired_document_reads_as_absent_while_firestore_still_has_it(
    firestore_emulator: FirestoreEmulator, firestore_project: str, raw: Any
) -> None:
    clock = ManualClock(START)
    store = FirestoreDocumentStore(
        make_client(firestore_project, emulator_host=firestore_emulator.host), clock=clock
    )
    try:
        await store.put("cache", "k", {"v": 1}, expires_at=START + timedelta(seconds=1))
        clock.advance(timedelta(seconds=1))
        assert await store.get("cache", "k") is None
        assert (await raw.collection("cache").document("k").get()).exists  # TTL has not run yet
        assert await store.delete_expired("cache") == 1
        assert not (await raw.collection("cache").document("k").get()).exists
    finally:
        await store.close()


@pytest.mark.firestore
async def test_refusals_are_answered_at_once_not_retried(
    firestore_emulator: FirestoreEmulator, firestore_project: str
) -> None:
    # A budget far beyond the test timeout: a retried NotFound/AlreadyExists would hang the test.
    patient = RetryPolicy(attempt_seconds=30.0, total_seconds=600.0)
    store = FirestoreDocumentStore(
        make_client(firestore_project, emulator_host=firestore_emulator.host),
        clock=ManualClock(START),
        policy=patient,
    )
    try:
        await store.create("things", "x", {})
        started = time.monotonic()
        with pytest.raises(DocumentAlreadyExists):
            await store.create("things", "x", {})
        with pytest.raises(DocumentNotFound):
            await store.patch("things", "missing", {"a": 1})
        with pytest.raises(ValueError, match="firestore refused"):
            await store.put("things", "huge", {"blob": "x" * 1_100_000})  # past Firestore's 1 MiB
        assert time.monotonic() - started < 10
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("data", "error", "reason"),
    [*UNSTORABLE, ({"when": datetime(2026, 1, 1)}, TypeError, "not JSON serializable")],
)
async def test_what_firestore_cannot_store_is_refused_before_sending(
    data: dict[str, Any], error: type[Exception], reason: str
) -> None:
    # No backend listens on this port: a refusal that needed a round trip would be BackendUnavailable.
    client = make_client("demo-local", emulator_host=f"127.0.0.1:{free_port()}")
    store = FirestoreDocumentStore(client, clock=ManualClock(START), policy=SHORT)
    try:
        with pytest.raises(error, match=reason):
            await store.put("things", "x", data)
        with pytest.raises(error, match=reason):
            await store.write_batch([Put("things", "x", {"ok": 1}), Put("things", "y", data)])
    finally:
        await store.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: only a deadline ends a call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
async def test_an_unreachable_backend_is_unavailable_within_the_budget(
    request: pytest.FixtureRequest, port_fixture: str
) -> None:
    port: int = request.getfixturevalue(port_fixture)
    store = FirestoreDocumentStore(
        make_client("demo-unreachable", emulator_host=f"127.0.0.1:{port}"),
        clock=ManualClock(START),
        policy=SHORT,
    )
    calls = {
        "get": store.get("things", "x"),
        "put": store.put("things", "x", {}),
        "create": store.create("things", "y", {}),
        "patch": store.patch("things", "x", {"a": 1}),
        "delete": store.delete("things", "x"),
        "query": store.query(Query("things", order_by="a")),
        "batch": store.write_batch([Put("things", "z", {})]),
        "expired": store.delete_expired("things"),
        "ping": store.ping(),
    }

    async def timed(pending: Awaitable[object]) -> tuple[BaseException | None, float]:
        started = time.monotonic()
        try:
            await pending
        except BaseException as exc:
            return exc, time.monotonic() - started
        return None, time.monotonic() - started

    try:
        outcomes = await asyncio.gather(*(timed(pending) for pending in calls.values()))
    finally:
        await store.close()
    for name, (error, elapsed) in zip(calls, outcomes, strict=True):
        assert isinstance(error, BackendUnavailable), f"{name}: {error!r}"
        assert error.backend == "firestore"
        assert elapsed < 3 * SHORT.total_seconds, f"{name} took {elapsed:.1f}s"


async def test_the_default_budget_is_seconds() -> None:
    store = FirestoreDocumentStore(
        make_client("demo-unreachable", emulator_host=f"127.0.0.1:{free_port()}"), clock=ManualClock(START)
    )
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable):
            await store.get("things", "x")
    finally:
        await store.close()
    assert time.monotonic() - started < 15


@pytest.mark.firestore
async def test_documents_come_back_with_plain_utc_datetimes(
    firestore_emulator: FirestoreEmulator, firestore_project: str
) -> None:
    store = FirestoreDocumentStore(
        make_client(firestore_project, emulator_host=firestore_emulator.host), clock=ManualClock(START)
    )
    try:
        naive = datetime(2026, 6, 1, 12, 0, 0, 5)  # naive means UTC throughout the service
        await store.put("things", "x", {}, expires_at=naive)
        fetched = await store.get("things", "x")
    finally:
        await store.close()
    assert fetched == Document("x", {}, naive.replace(tzinfo=UTC))
    assert fetched is not None
    assert type(fetched.expires_at) is datetime


@pytest.mark.firestore
def test_the_harness_stops_the_whole_emulator_and_restarts_it_on_its_port(tmp_path: Path) -> None:
    emulator = FirestoreEmulator(emulator_or_skip(), tmp_path / "emulator")
    emulator.start()
    try:
        group = emulator.process_group
        assert group is not None
        members = live_members(group)
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in members]
        assert any(b"java" in command for command in commands)  # the JVM is in the group
        port = emulator.port
        emulator.restart(keep="demo-harness")
        assert emulator.port == port
        assert live_members(group) == []  # the first JVM went with its script
    finally:
        emulator.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
