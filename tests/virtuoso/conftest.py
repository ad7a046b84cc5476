"""The client under test, talking to the sandbox (or to a scripted remote) over httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from tenacity import RetryCallState

from tests.virtuoso._upstream import Upstream
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED, create_sandbox_app
from virtuoso_api.virtuoso import RetryPolicy, VirtuosoClient

# Distinctive, so that finding it in any message is unambiguous.
TOKEN = "tok-3f9c1e7a-secret"
BASE_URL = "http://virtuoso.test/api"


class RecordingWait:
    """A tenacity wait that never sleeps. Tenacity asks it after every failed attempt it may retry (the
    last one included, before checking the attempt limit), so it records those attempts' numbers."""

    def __init__(self) -> None:
        self.retryable_failures: list[int] = []

    def __call__(self, state: RetryCallState) -> float:
        self.retryable_failures.append(state.attempt_number)
        return 0.0


@pytest.fixture
def waits() -> RecordingWait:
    return RecordingWait()


@pytest.fixture
def retry(waits: RecordingWait) -> RetryPolicy:
    return RetryPolicy(attempts=3, wait=waits)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox_app(clock: ManualClock) -> FastAPI:
    return create_sandbox_app(token=TOKEN, clock=clock)


@pytest.fixture
async def client(sandbox_app: FastAPI, retry: RetryPolicy) -> AsyncIterator[VirtuosoClient]:
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield VirtuosoClient(http, token=TOKEN, org_id=SEED.organization_id, retry=retry)


UpstreamClient = Callable[..., VirtuosoClient]


@pytest.fixture
async def upstream_client(retry: RetryPolicy) -> AsyncIterator[UpstreamClient]:
    """Builds a client whose remote is the given :class:`Upstream`."""
    opened: list[httpx.AsyncClient] = []

    def make(upstream: Upstream, *, org_id: int | None = SEED.organization_id) -> VirtuosoClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url=BASE_URL)
        opened.append(http)
        return VirtuosoClient(
            http, token=TOKEN, org_id=org_id, client_id="ci-runner", client_name="nightly", retry=retry
        )

    yield make
    for http in opened:
        await http.aclose()
