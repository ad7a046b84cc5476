"""``run_once`` over a real SQLite store: claims, replays, releases, leases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from virtuoso_api.errors import Conflict, InvalidInput
from virtuoso_api.idempotency import IdempotencyService, OnceKey
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import ManualClock

RESULT = TypeAdapter(dict[str, int])
BODY = {"command": "step-navigate", "args": ["to", "https://example.com"]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def service(tmp_path: Path, clock: ManualClock) -> AsyncIterator[IdempotencyService]:
    store = SqliteDocumentStore(tmp_path / "db.sqlite3", clock=clock)
    yield IdempotencyService(store, clock=clock)
    await store.close()


class Work:
    """Counts its runs; returns ``{"run": n}``."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> dict[str, int]:
        self.runs += 1
        return {"run": self.runs}


def key(owner: str = "alice", name: str = "k-1", scope: str = "commands", payload: object = BODY) -> OnceKey:
    return OnceKey(owner, scope, name, payload)


async def test_a_second_call_with_the_key_replays_the_first_result(service: IdempotencyService) -> None:
    work = Work()
    first = await service.run_once(key(), work, result_type=RESULT)
    again = await service.run_once(key(), work, result_type=RESULT)
    assert (first.value, first.replayed) == ({"run": 1}, False)
    assert (again.value, again.replayed) == ({"run": 1}, True)
    assert work.runs == 1


async def test_without_a_key_work_always_runs(service: IdempotencyService) -> None:
    work = Work()
    await service.run_once(None, work, result_type=RESULT)
    await service.run_once(None, work, result_type=RESULT)
    assert work.runs == 2


async def test_keys_are_per_owner_and_per_scope(service: IdempotencyService) -> None:
    work = Work()
    await service.run_once(key(), work, result_type=RESULT)
    await service.run_once(key(owner="bob"), work, result_type=RESULT)
    await service.run_once(key(scope="commands/batch"), work, result_type=RESULT)
    assert work.runs == 3


async def test_a_call_while_the_first_runs_is_a_conflict(service: IdempotencyService) -> None:
    started, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> dict[str, int]:
        started.set()
        await finish.wait()
        return {"run": 1}

    first = asyncio.create_task(service.run_once(key(), slow, result_type=RESULT))
    await started.wait()
    with pytest.raises(Conflict):
        await service.run_once(key(), Work(), result_type=RESULT)
    finish.set()
    assert (await first).value == {"run": 1}


async def test_the_same_key_with_another_payload_is_refused(service: IdempotencyService) -> None:
    await service.run_once(key(), Work(), result_type=RESULT)
    other = {**BODY, "args": ["to", "https://x.org"]}
    with pytest.raises(InvalidInput, match="different request body"):
        await service.run_once(key(payload=other), Work(), result_type=RESULT)


async def test_work_that_changed_nothing_releases_the_key(service: IdempotencyService) -> None:
    work = Work()
    await service.run_once(key(), work, result_type=RESULT, changed=lambda _: False)
    second = await service.run_once(key(), work, result_type=RESULT)
    assert (second.value, second.replayed, work.runs) == ({"run": 2}, False, 2)


@pytest.mark.parametrize("error", [ValueError("a bug"), Conflict("expected")])
async def test_any_failure_releases_the_key(service: IdempotencyService, error: Exception) -> None:
    async def failing() -> dict[str, int]:
        raise error

    with pytest.raises(type(error)):
        await service.run_once(key(), failing, result_type=RESULT)
    second = await service.run_once(key(), Work(), result_type=RESULT)
    assert second.replayed is False


async def test_an_abandoned_claim_expires_with_its_lease(
    service: IdempotencyService, clock: ManualClock, tmp_path: Path
) -> None:
    store = SqliteDocumentStore(tmp_path / "db.sqlite3", clock=clock)
    try:  # a claim left by a process that died: written as run_once writes it, never completed
        await store.create(
            "idempotency",
            key().doc_id,
            {"state": "running", "fingerprint": key().fingerprint},
            expires_at=clock.now() + timedelta(minutes=2),
        )
    finally:
        await store.close()
    with pytest.raises(Conflict):
        await service.run_once(key(), Work(), result_type=RESULT)
    clock.advance(timedelta(minutes=3))
    assert (await service.run_once(key(), Work(), result_type=RESULT)).replayed is False


async def test_results_are_kept_a_day(service: IdempotencyService, clock: ManualClock) -> None:
    await service.run_once(key(), Work(), result_type=RESULT)
    clock.advance(timedelta(hours=25))
    assert (await service.run_once(key(), Work(), result_type=RESULT)).replayed is False


@pytest.mark.parametrize("name", ["", "has space", "x" * 256, "ünïcode"])
async def test_malformed_keys_are_refused(service: IdempotencyService, name: str) -> None:
    with pytest.raises(InvalidInput):
        await service.run_once(key(name=name), Work(), result_type=RESULT)
