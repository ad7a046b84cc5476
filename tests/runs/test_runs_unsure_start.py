"""A start that Virtuoso received but did not answer in time: the run may exist, so the caller is
told so, and the request is not sent again (it would start a second run)."""

from __future__ import annotations

import httpx
import pytest

from tests.runs.conftest import ServedSandbox
from virtuoso_api.config import Settings
from virtuoso_api.sandbox import SEED


@pytest.fixture
def latency_seconds() -> float:
    return 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"virtuoso_timeout_seconds": 0.2, "virtuoso_retry_attempts": 3})


async def test_a_start_without_an_answer_says_the_run_may_have_started(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    response = await client.post("/api/v1/runs", headers=writer, json={"goal_id": SEED.goal_id})
    assert response.status_code == 503
    assert "the run may have started" in response.json()["error"]["message"]
    assert sandbox.state.traffic.count("POST", f"/goals/{SEED.goal_id}/execute") == 1  # sent once
    assert len(sandbox.state.executions) == 1  # and Virtuoso did start it
