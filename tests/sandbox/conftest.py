"""The sandbox under test, reached over HTTP through httpx (raw requests, as Virtuoso's contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED, create_sandbox_app

TOKEN = "sandbox-test-token"
BASE_URL = "http://sandbox.test/api"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock) -> FastAPI:
    return create_sandbox_app(token=TOKEN, clock=clock)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Authenticated."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        yield http


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield http


def comment(text: str, *, checkpoint: int = SEED.checkpoint_id, index: int = 1) -> dict[str, Any]:
    return {
        "checkpointId": checkpoint,
        "stepIndex": index,
        "parsedStep": {"action": "COMMENT", "value": text},
    }


def click(clue_json: str, *, checkpoint: int = SEED.checkpoint_id, index: int = 1) -> dict[str, Any]:
    return {
        "checkpointId": checkpoint,
        "stepIndex": index,
        "parsedStep": {"action": "CLICK", "target": {"selectors": [{"type": "GUESS", "value": clue_json}]}},
    }


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["success"] is False
    error: dict[str, Any] = body["error"]
    return error
