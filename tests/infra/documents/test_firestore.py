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
    build_documents,
)
from virtuoso_api.kit.clock import ManualClock

pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")

from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
from virtuoso_api.infra.documents.firestore_calls import make_client
from virtuoso_api.infra.outbox import build_outbox
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget


class Pauses:
    """The resilience kit's sleep, recorded and not waited: counts retries without timing them."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def remote(*, attempts: int = 3, attempt_seconds: float = 1.0, pauses: Pauses | None = None) -> RemoteCall:
    return RemoteCall(
        "firestore",
        budget=RetryBudget(deadline_seconds=60.0, attempt_seconds=attempt_seconds, max_attempts=attempts),
        breaker=CircuitBreaker("firestore", clock=ManualClock(START), cooldown=timedelta(0)),
        sleep=pauses or Pauses(),
    )


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
    async with (
        build_outbox(settings, clock=ManualClock(START)) as outbox,
        build_documents(settings, clock=ManualClock(START), outbox=outbox) as documents,
    ):
        store = documents.store
        assert store.backend == "firestore"
        await store.put("things", "x", {"a": 1})
        await store.ping()
    snapshot = await raw.collection("things").document("x").get()
    assert snapshot.to_dict() == {"a": 1}
    assert not settings.database_path.exists()  # no SQLite store on the side (the outbox file only)


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
    pauses = Pauses()  # a retried NotFound/AlreadyExists/InvalidArgument would pause first
    store = FirestoreDocumentStore(
        make_client(firestore_project, emulator_host=firestore_emulator.host),
        clock=ManualClock(START),
        remote=remote(attempts=10, attempt_seconds=30.0, pauses=pauses),
    )
    try:
        await store.create("things", "x", {})
        with pytest.raises(DocumentAlreadyExists):
            await store.create("things", "x", {})
        with pytest.raises(DocumentNotFound):
            await store.patch("things", "missing", {"a": 1})
        with pytest.raises(ValueError, match="firestore refused"):
            await store.put("things", "huge", {"blob": "x" * 1_100_000})  # past Firestore's 1 MiB
        assert pauses.taken == []
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
    store = FirestoreDocumentStore(client, clock=ManualClock(START), remote=remote())
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
    pauses = Pauses()
    store = FirestoreDocumentStore(
        make_client("demo-unreachable", emulator_host=f"127.0.0.1:{port}"),
        clock=ManualClock(START),
        remote=remote(pauses=pauses),
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
    for name, (error, _elapsed) in zip(calls, outcomes, strict=True):
        assert isinstance(error, BackendUnavailable), f"{name}: {error!r}"
        assert error.backend == "firestore"
    # Bounded by the budget's attempts (3 each, so 2 pauses each at most; reads of a read-modify-write
    # count too), never the library's own minutes of retries.
    assert 0 < len(pauses.taken) <= 2 * 2 * len(calls)


async def test_the_default_budget_is_seconds() -> None:
    store = FirestoreDocumentStore(
        make_client("demo-unreachable", emulator_host=f"127.0.0.1:{free_port()}"), clock=ManualClock(START)
    )
    try:
        assert store.remote.budget.deadline_seconds == 6.0
        assert store.remote.budget.attempt_seconds == 4.0
    finally:
        await store.close()


class _LostAnswer:
    """The official client, except that the first ``create`` lands and then its answer is lost: the
    deadline expires after the write reached Firestore (the SDK edge; Firestore itself is real)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def collection(self, name: str) -> Any:
        outer = self

        class Collection:
            def __getattr__(self, attr: str) -> Any:
                return getattr(outer._client.collection(name), attr)

            def document(self, doc_id: str) -> Any:
                real = outer._client.collection(name).document(doc_id)

                class Ref:
                    def __getattr__(self, attr: str) -> Any:
                        return getattr(real, attr)

                    async def create(self, *args: Any, **kwargs: Any) -> Any:
                        result = await real.create(*args, **kwargs)
                        if not outer.lost:
                            outer.lost += 1
                            from google.api_core.exceptions import DeadlineExceeded

                            raise DeadlineExceeded("the answer never came back")  # type: ignore[no-untyped-call]
                        return result

                return Ref()

        return Collection()


@pytest.mark.firestore
async def test_a_retried_create_that_had_landed_is_not_a_conflict(
    firestore_emulator: FirestoreEmulator, firestore_project: str
) -> None:
    client = _LostAnswer(make_client(firestore_project, emulator_host=firestore_emulator.host))
    pauses = Pauses()
    store = FirestoreDocumentStore(client, clock=ManualClock(START), remote=remote(pauses=pauses))  # type: ignore[arg-type]
    try:
        created = await store.create("api_keys", "key_1", {"name": "fresh"})
        assert created == Document("key_1", {"name": "fresh"})
        assert (client.lost, len(pauses.taken)) == (1, 1)  # it was retried, and found its own write
        with pytest.raises(DocumentAlreadyExists):  # someone else's create is still a conflict
            await store.create("api_keys", "key_1", {"name": "fresh"})
    finally:
        await store.close()


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
