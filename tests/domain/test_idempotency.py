"""Idempotency claims over a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from virtuoso_api.errors import Conflict, InvalidInput
from virtuoso_api.idempotency import IdempotencyService, StoredResponse
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def service(tmp_path: Path, clock: ManualClock) -> AsyncIterator[IdempotencyService]:
    store = SqliteDocumentStore(tmp_path / "db.sqlite3", clock=clock)
    yield IdempotencyService(store, clock=clock)
    await store.close()


BODY = {"command": "step-navigate", "args": ["to", "https://example.com"]}


async def test_a_completed_request_is_replayed(service: IdempotencyService) -> None:
    claim = await service.claim("alice", "k-1", scope="commands", payload=BODY)
    assert claim.replay is None
    await service.complete(claim, StoredResponse(status_code=201, body={"step_id": 9}))
    again = await service.claim("alice", "k-1", scope="commands", payload=BODY)
    assert again.replay == StoredResponse(status_code=201, body={"step_id": 9})


async def test_keys_are_per_user_and_per_route(service: IdempotencyService) -> None:
    claim = await service.claim("alice", "k-1", scope="commands", payload=BODY)
    await service.complete(claim, StoredResponse(status_code=201, body={}))
    assert (await service.claim("bob", "k-1", scope="commands", payload=BODY)).replay is None
    assert (await service.claim("alice", "k-1", scope="commands/batch", payload=BODY)).replay is None


async def test_a_retry_while_running_is_a_conflict(service: IdempotencyService) -> None:
    await service.claim("alice", "k-1", scope="commands", payload=BODY)
    with pytest.raises(Conflict):
        await service.claim("alice", "k-1", scope="commands", payload=BODY)


async def test_the_same_key_with_another_body_is_refused(service: IdempotencyService) -> None:
    claim = await service.claim("alice", "k-1", scope="commands", payload=BODY)
    await service.complete(claim, StoredResponse(status_code=201, body={}))
    with pytest.raises(InvalidInput, match="different request body"):
        await service.claim(
            "alice", "k-1", scope="commands", payload={**BODY, "args": ["to", "https://x.org"]}
        )


async def test_a_released_or_abandoned_claim_may_run_again(
    service: IdempotencyService, clock: ManualClock
) -> None:
    claim = await service.claim("alice", "k-1", scope="commands", payload=BODY)
    await service.release(claim)
    assert (await service.claim("alice", "k-1", scope="commands", payload=BODY)).replay is None
    clock.advance(timedelta(minutes=3))  # the second claimant died: its lease ran out
    assert (await service.claim("alice", "k-1", scope="commands", payload=BODY)).replay is None


async def test_answers_are_kept_a_day(service: IdempotencyService, clock: ManualClock) -> None:
    claim = await service.claim("alice", "k-1", scope="commands", payload=BODY)
    await service.complete(claim, StoredResponse(status_code=201, body={}))
    clock.advance(timedelta(hours=25))
    assert (await service.claim("alice", "k-1", scope="commands", payload=BODY)).replay is None


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ünïcode"])
async def test_malformed_keys_are_refused(service: IdempotencyService, key: str) -> None:
    with pytest.raises(InvalidInput):
        await service.claim("alice", key, scope="commands", payload=BODY)
