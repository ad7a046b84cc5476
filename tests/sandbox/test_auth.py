"""Every Virtuoso path needs the bearer token, checked before anything else."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import TOKEN, comment
from virtuoso_api.sandbox import create_sandbox_app

PATHS = [
    ("GET", "/projects"),
    ("GET", "/projects/101/goals"),
    ("GET", "/goals/201/versions"),
    ("GET", "/testsuites/401"),
    ("GET", "/testcases/1001"),
    ("GET", "/checkpoints/1001/teststeps"),
    ("GET", "/teststeps/5000"),
    ("GET", "/executions/1/status"),
    ("POST", "/goals/201/execute"),
    ("GET", "/testsuites/execution?jobId=1"),
    ("POST", "/plans/executions/501/execute"),
    ("GET", "http://sandbox.test/_sandbox/requests"),
    ("POST", "http://sandbox.test/_sandbox/executions/1/cancel"),
    ("GET", "/library/checkpoints/1"),
    ("GET", "/testdata/tables/1"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_no_token_is_401(anonymous: httpx.AsyncClient, method: str, path: str) -> None:
    response = await anonymous.request(method, path)
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "error": "Authentication required: send Authorization: Bearer <token>",
    }


@pytest.mark.parametrize(
    "authorization", ["Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", TOKEN]
)
async def test_a_wrong_token_is_401(anonymous: httpx.AsyncClient, authorization: str) -> None:
    response = await anonymous.get("/projects", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["success"] is False


async def test_the_token_is_checked_before_the_body(
    anonymous: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    response = await anonymous.post("/teststeps", json={"junk": True})
    assert response.status_code == 401
    # and nothing was created
    assert (await api.get("/checkpoints/1001/teststeps")).json()["items"] == []


async def test_the_right_token_is_let_in(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        "/teststeps", json=comment("hi"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    assert response.json()["success"] is True


def test_an_empty_token_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="non-empty token"):
        create_sandbox_app(token="")
