"""Each field is read as the OpenAPI document types it: a value of another JSON type is a 422 naming
the field (pydantic's lax mode took ``0`` for ``false``, ``"9"`` for ``9`` and ``0.5`` for a date), and
what the document admits is taken."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.services import Services


def _fields(response: httpx.Response) -> list[str]:
    return [detail["field"] for detail in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/sessions", {"checkpoint_id": 1001, "activate": 0}, "activate"),
        ("/api/v1/sessions", {"checkpoint_id": 1001, "activate": "true"}, "activate"),
        ("/api/v1/sessions", {"checkpoint_id": "1001 "}, "checkpoint_id"),
        ("/api/v1/sessions", {"checkpoint_id": 1_000_000_000_000_000}, "checkpoint_id"),  # 16 digits
        ("/api/v1/sessions", {"checkpoint_id": 1001, "metadata": {"n": 2**53 + 1}}, "metadata"),
        ("/api/v1/sessions", {"checkpoint_id": 1001, "metadata": {"n": [-1e300]}}, "metadata"),
        ("/api/v1/api-keys", {"name": "ci", "expires_in_days": "9"}, "expires_in_days"),
        ("/api/v1/api-keys", {"name": "ci", "expires_in_days": True}, "expires_in_days"),
        ("/api/v1/commands", {"command": "step-misc", "args": ["comment", "x"], "position": "1"}, "position"),
        (
            "/api/v1/commands/batch",
            {"commands": [{"command": "step-misc"}], "stop_on_error": 0},
            "stop_on_error",
        ),
        # A job keeps its request: a position past 64 bits was a 500 when the store refused it.
        ("/api/v1/commands/async", {"command": "step-misc", "position": 2**70}, "position"),
        (
            "/api/v1/commands/batch/async",
            {"commands": [{"command": "step-misc", "position": 2**70}]},
            "commands[0].position",
        ),
        ("/api/v1/commands/batch/async", {"commands": [{"command": "step-misc"}], "parallel": 1}, "parallel"),
        ("/api/v1/commands/async", {"command": "step-misc", "delay_seconds": "5"}, "delay_seconds"),
        ("/api/v1/runs", {"goal_id": "201"}, "goal_id"),
        ("/api/v1/runs", {"goal_id": 201, "snapshot_id": True}, "snapshot_id"),
    ],
)
async def test_a_value_of_another_json_type_is_a_422_naming_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, path: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(path, headers=auth(await make_key(Scope.ADMIN)), json=body)

    assert response.status_code == 422, response.text
    assert _fields(response) == [field]


async def test_what_the_document_admits_is_taken(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    who = auth(await make_key(Scope.ADMIN))
    # JSON's 9.0 is the integer 9; a 15-digit id is the longest any client reads back exactly.
    key = await client.post("/api/v1/api-keys", headers=who, json={"name": "ci", "expires_in_days": 9.0})
    session = await client.post(
        "/api/v1/sessions",
        headers=who,
        json={"checkpoint_id": 1001.0, "activate": True, "metadata": {"n": 2**53, "x": -0.5}},
    )
    longest = await client.post("/api/v1/sessions", headers=who, json={"checkpoint_id": "cp_999999999999999"})

    assert key.status_code == 201, key.text
    assert (session.status_code, session.json()["checkpoint_id"]) == (201, 1001), session.text
    assert (longest.status_code, longest.json()["checkpoint_id"]) == (201, 999_999_999_999_999)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=0.5", "since"),  # a Unix time, taken as 1970-01-01T00:00:00.5Z before
        ("since=1735689600", "since"),
        ("since=2026-01-31", "since"),  # a date, not a date-time
        ("since=2026-01-31T09:00:00", "since"),  # no offset: which zone?
        ("since=0001-01-01T00:00:00%2B23:59", "since"),  # year 0 in UTC: a 500 before
        ("since=9999-12-31T23:59:59-23:59", "since"),  # year 10000 in UTC: a 500 before
        ("success=1", "success"),
        ("success=yes", "success"),
        ("success=True", "success"),
        ("checkpoint_id=%201001", "checkpoint_id"),
        ("cursor=", "cursor"),
    ],
)
async def test_history_filters_are_read_as_the_document_types_them(
    client: httpx.AsyncClient, make_key: MakeKey, query: str, field: str
) -> None:
    response = await client.get(f"/api/v1/commands/history?{query}", headers=auth(await make_key()))

    assert response.status_code == 422, response.text
    assert _fields(response) == [field]


async def test_history_takes_rfc3339_and_true_or_false(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key())
    sent = await client.post(
        "/api/v1/commands",
        headers=who,
        json={"command": "step-misc", "args": ["comment", "a"], "checkpoint_id": 1001},
    )
    assert sent.status_code == 201, sent.text

    async def commands(query: str) -> list[str]:
        response = await client.get(f"/api/v1/commands/history?{query}", headers=who)
        assert response.status_code == 200, response.text
        return [entry["command"] for entry in response.json()["entries"]]

    assert await commands("success=true&since=2000-01-01T00:00:00Z") == ["step-misc"]
    assert await commands("success=true&since=2000-01-01t01:00:00.5%2B01:00") == ["step-misc"]
    assert await commands("success=false") == []
    assert await commands("since=9999-12-31T00:00:00Z") == []
