"""Command history: filters, ordering, paging, and who may read what."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services


async def _record(services: Services, clock: ManualClock, user: str, **fields: object) -> str:
    clock.advance(timedelta(seconds=1))
    entry = await services.history.record(
        user_id=user,
        command=str(fields.pop("command", "step-navigate")),
        args=["to", "https://example.com"],
        success=bool(fields.pop("success", True)),
        **fields,  # type: ignore[arg-type]
    )
    return entry.entry_id


class TestQueries:
    async def test_newest_first_with_every_filter(
        self, client: httpx.AsyncClient, services: Services, clock: ManualClock, make_key: MakeKey
    ) -> None:
        key = auth(await make_key(name="alice"))
        a = await _record(services, clock, "alice", checkpoint_id=1, session_id="s1")
        since = clock.now() + timedelta(milliseconds=500)
        b = await _record(services, clock, "alice", checkpoint_id=2, command="step-assert", success=False)
        c = await _record(services, clock, "alice", checkpoint_id=1, session_id="s1", command="step-assert")
        await _record(services, clock, "bob", checkpoint_id=1)

        async def ids(**params: str | int | bool) -> list[str]:
            response = await client.get("/api/v1/commands/history", headers=key, params=params)
            assert response.status_code == 200, response.text
            return [entry["entry_id"] for entry in response.json()["entries"]]

        assert await ids() == [c, b, a]
        assert await ids(checkpoint_id="cp_1") == [c, a]
        assert await ids(session_id="s1") == [c, a]
        assert await ids(command="step-assert") == [c, b]
        assert await ids(success="false") == [b]
        assert await ids(since=since.isoformat()) == [c, b]
        assert await ids(checkpoint_id=1, command="step-assert", success=True) == [c]

    async def test_pages_follow_the_cursor_to_the_end(
        self, client: httpx.AsyncClient, services: Services, clock: ManualClock, make_key: MakeKey
    ) -> None:
        key = auth(await make_key(name="alice"))
        recorded = [await _record(services, clock, "alice") for _ in range(7)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/v1/commands/history", headers=key, params=params)).json()
            seen += [entry["entry_id"] for entry in body["entries"]]
            if (cursor := body["next_cursor"]) is None:
                break
        assert seen == list(reversed(recorded))

    @pytest.mark.parametrize(
        "payload",
        [
            {"o": "timestamp", "d": True, "v": 10**30, "id": "h_1"},
            {"o": "timestamp", "d": True, "v": [[[[]]]], "id": "h_1"},
            {"o": "timestamp", "d": True, "v": "x", "id": "a/b"},
            {},
            [],
            "text",
        ],
    )
    async def test_a_forged_cursor_is_a_400_naming_it(
        self, client: httpx.AsyncClient, make_key: MakeKey, payload: object
    ) -> None:
        raw = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        for cursor in (raw, "not-a-cursor"):
            response = await client.get(
                "/api/v1/commands/history", headers=auth(await make_key()), params={"cursor": cursor}
            )
            assert response.status_code == 400, response.text
            assert response.json()["error"]["details"][0]["field"] == "cursor"

    async def test_bad_parameters_are_422(self, client: httpx.AsyncClient, make_key: MakeKey) -> None:
        key = auth(await make_key())
        for params, field in (
            ({"limit": 0}, "limit"),
            ({"since": "yesterday"}, "since"),
            ({"checkpoint_id": "abc"}, "checkpoint_id"),
            ({"success": "perhaps"}, "success"),
        ):
            response = await client.get("/api/v1/commands/history", headers=key, params=params)
            assert response.status_code == 422, params
            assert response.json()["error"]["details"][0]["field"] == field


class TestVisibility:
    async def test_a_caller_sees_its_own_and_an_admin_may_look_at_others(
        self, client: httpx.AsyncClient, services: Services, clock: ManualClock, make_key: MakeKey
    ) -> None:
        bobs = await _record(services, clock, "bob")
        alice = auth(await make_key(name="alice"))
        admin = auth(await make_key(Scope.ADMIN, name="root"))
        assert (await client.get("/api/v1/commands/history", headers=alice)).json()["entries"] == []
        denied = await client.get("/api/v1/commands/history", headers=alice, params={"user_id": "bob"})
        assert denied.status_code == 403
        allowed = await client.get("/api/v1/commands/history", headers=admin, params={"user_id": "bob"})
        assert [e["entry_id"] for e in allowed.json()["entries"]] == [bobs]
