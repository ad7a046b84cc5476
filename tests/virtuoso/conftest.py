"""The client under test, talking to the sandbox (or to a scripted remote) over httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.virtuoso._upstream import Upstream
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.resilience import RemoteCall
from virtuoso_api.sandbox import SEED, create_sandbox_app
from virtuoso_api.virtuoso import VirtuosoClient, virtuoso_remote

# Distinctive, so that finding it in any message is unambiguous.
TOKEN = "tok-3f9c1e7a-secret"
BASE_URL = "http://virtuoso.test/api"


class RecordingWait:
    """A sleep for the resilience kit that never sleeps: it records each pause between attempts."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.fixture
def waits() -> RecordingWait:
    return RecordingWait()


@pytest.fixture
def retry(waits: RecordingWait, clock: ManualClock) -> RemoteCall:
    return virtuoso_remote(clock=clock, attempts=3, sleep=waits)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox_app(clock: ManualClock) -> FastAPI:
    return create_sandbox_app(token=TOKEN, clock=clock)


@pytest.fixture
async def client(sandbox_app: FastAPI, retry: RemoteCall) -> AsyncIterator[VirtuosoClient]:
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield VirtuosoClient(http, token=TOKEN, org_id=SEED.organization_id, remote=retry)


UpstreamClient = Callable[..., VirtuosoClient]


@pytest.fixture
async def upstream_client(retry: RemoteCall) -> AsyncIterator[UpstreamClient]:
    """Builds a client whose remote is the given :class:`Upstream`."""
    opened: list[httpx.AsyncClient] = []

    def make(upstream: Upstream, *, org_id: int | None = SEED.organization_id) -> VirtuosoClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url=BASE_URL)
        opened.append(http)
        return VirtuosoClient(
            http, token=TOKEN, org_id=org_id, client_id="ci-runner", client_name="nightly", remote=retry
        )

    yield make
    for http in opened:
        await http.aclose()
