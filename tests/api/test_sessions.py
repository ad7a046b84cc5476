"""Sessions over HTTP: the lifecycle, ownership, the active session, the sliding expiry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import ApiKeyCreate
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services

T = TypeVar("T")


@pytest.fixture
async def alice(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(name="alice"))


@pytest.fixture
async def bob(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(name="bob"))


async def _create(client: httpx.AsyncClient, who: dict[str, str], **body: object) -> dict[str, object]:
    response = await client.post("/api/v1/sessions", headers=who, json={"checkpoint_id": 456, **body})
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


class TestLifecycle:
    async def test_create_get_update_delete(self, client: httpx.AsyncClient, alice: dict[str, str]) -> None:
        created = await _create(
            client, alice, checkpoint_id="cp_456", name="checkout flow", metadata={"pr": 12}
        )
        session_id = str(created["session_id"])
        assert session_id.startswith("sess_")
        assert (created["checkpoint_id"], created["name"], created["metadata"]) == (
            456,
            "checkout flow",
            {"pr": 12},
        )
        assert created["active"] is False

        fetched = (await client.get(f"/api/v1/sessions/{session_id}", headers=alice)).json()
        assert fetched["checkpoint_id"] == 456

        patched = await client.patch(
            f"/api/v1/sessions/{session_id}", headers=alice, json={"checkpoint_id": "cp_789"}
        )
        assert patched.status_code == 200
        assert (patched.json()["checkpoint_id"], patched.json()["name"]) == (789, "checkout flow")

        assert (await client.delete(f"/api/v1/sessions/{session_id}", headers=alice)).status_code == 204
        gone = await client.get(f"/api/v1/sessions/{session_id}", headers=alice)
        assert gone.status_code == 404
        assert gone.json()["error"]["type"] == "not_found"

    async def test_patch_with_nulls_clears_metadata_and_name_but_keeps_the_checkpoint(
        self, client: httpx.AsyncClient, alice: dict[str, str]
    ) -> None:
        created = await _create(client, alice, name="n", metadata={"k": 1})
        path = f"/api/v1/sessions/{created['session_id']}"
        cleared = await client.patch(path, headers=alice, json={"metadata": None, "name": None})
        assert cleared.status_code == 200, cleared.text
        assert (cleared.json()["metadata"], cleared.json()["name"]) == ({}, None)
        refused = await client.patch(path, headers=alice, json={"checkpoint_id": None})
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0] == {
            "field": "checkpoint_id",
            "reason": "a session's checkpoint can be changed but not removed",
        }
        again = await client.get(path, headers=alice)
        assert (again.status_code, again.json()["checkpoint_id"]) == (200, 456)

    async def test_the_checkpoint_is_required_and_checked(
        self, client: httpx.AsyncClient, alice: dict[str, str]
    ) -> None:
        for body in (
            {"checkpoint_id": 2**70},
            {"checkpoint_id": 0},
            {"checkpoint_id": "cp_"},
            {"checkpoint_id": True},
            {"checkpoint_id": 1, "colour": "red"},
        ):
            response = await client.post("/api/v1/sessions", headers=alice, json=body)
            assert response.status_code == 422, body
            assert response.json()["error"]["details"][0]["field"] in {"checkpoint_id", "colour"}

    @pytest.mark.parametrize(
        ("metadata", "reason"),
        [
            ({"grid": [[1, 2]]}, "Firestore cannot store an array directly inside an array"),
            ({"n": 2**70}, "does not fit in 64 bits"),
            ({"": 1}, "'' cannot be a field name in Firestore"),
            ({"blob": "x" * 17_000}, "at most 16384 bytes of JSON"),
        ],
    )
    async def test_metadata_any_store_could_not_keep_is_422(
        self, client: httpx.AsyncClient, alice: dict[str, str], metadata: dict[str, object], reason: str
    ) -> None:
        for method, path in (("POST", "/api/v1/sessions"), ("PATCH", "/api/v1/sessions/{id}")):
            if "{id}" in path:
                path = path.format(id=(await _create(client, alice))["session_id"])
            response = await client.request(
                method, path, headers=alice, json={"checkpoint_id": 1, "metadata": metadata}
            )
            assert response.status_code == 422, response.text
            (detail,) = response.json()["error"]["details"]
            assert detail["field"] == "metadata"
            assert reason in detail["reason"]

    async def test_list_shows_only_the_callers_sessions_newest_first(
        self, client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str], clock: ManualClock
    ) -> None:
        first = await _create(client, alice, name="one")
        clock.advance(timedelta(seconds=1))
        second = await _create(client, alice, name="two")
        await _create(client, bob, name="bob's")
        listed = (await client.get("/api/v1/sessions", headers=alice)).json()
        assert [s["session_id"] for s in listed] == [second["session_id"], first["session_id"]]


class TestOwnership:
    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("GET", "", None),
            ("PATCH", "", {"name": "mine now"}),
            ("DELETE", "", None),
            ("POST", "/activate", None),
        ],
    )
    async def test_someone_elses_session_is_not_found(
        self,
        client: httpx.AsyncClient,
        alice: dict[str, str],
        bob: dict[str, str],
        method: str,
        suffix: str,
        body: dict[str, str] | None,
    ) -> None:
        session_id = (await _create(client, alice))["session_id"]
        response = await client.request(
            method, f"/api/v1/sessions/{session_id}{suffix}", headers=bob, json=body
        )
        assert response.status_code == 404
        still_there = await client.get(f"/api/v1/sessions/{session_id}", headers=alice)
        assert still_there.json()["name"] is None


class TestActiveSession:
    async def test_current_is_404_until_one_is_activated(
        self, client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        assert (await client.get("/api/v1/sessions/current", headers=alice)).status_code == 404
        session_id = (await _create(client, alice))["session_id"]
        activated = await client.post(f"/api/v1/sessions/{session_id}/activate", headers=alice)
        assert activated.status_code == 200
        assert activated.json()["active"] is True
        current = (await client.get("/api/v1/sessions/current", headers=alice)).json()
        assert current["session_id"] == session_id
        assert current["active"] is True
        assert (await client.get("/api/v1/sessions/current", headers=bob)).status_code == 404

    async def test_create_can_activate_and_delete_clears_it(
        self, client: httpx.AsyncClient, alice: dict[str, str]
    ) -> None:
        session_id = (await _create(client, alice, activate=True))["session_id"]
        assert (await client.get("/api/v1/sessions/current", headers=alice)).json()[
            "session_id"
        ] == session_id
        await client.delete(f"/api/v1/sessions/{session_id}", headers=alice)
        assert (await client.get("/api/v1/sessions/current", headers=alice)).status_code == 404


class TestExpiry:
    async def test_an_unused_session_expires_after_the_ttl(
        self, client: httpx.AsyncClient, alice: dict[str, str], clock: ManualClock, services: Services
    ) -> None:
        session_id = (await _create(client, alice, activate=True))["session_id"]
        clock.advance(timedelta(seconds=services.settings.session_ttl_seconds + 1))
        assert (await client.get(f"/api/v1/sessions/{session_id}", headers=alice)).status_code == 404
        assert (await client.get("/api/v1/sessions/current", headers=alice)).status_code == 404
        assert (await client.get("/api/v1/sessions", headers=alice)).json() == []

    async def test_each_use_slides_the_expiry(
        self, client: httpx.AsyncClient, alice: dict[str, str], clock: ManualClock, services: Services
    ) -> None:
        ttl = timedelta(seconds=services.settings.session_ttl_seconds)
        session_id = (await _create(client, alice))["session_id"]
        for _ in range(3):  # three uses, each just inside the TTL: 2.7 TTLs in all
            clock.advance(ttl * 0.9)
            response = await client.get(f"/api/v1/sessions/{session_id}", headers=alice)
            assert response.status_code == 200
        assert response.json()["expires_at"] == (clock.now() + ttl).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TestDurability:
    async def test_sessions_survive_a_restart(self, settings: Settings, clock: ManualClock) -> None:
        async def served(work: Callable[[httpx.AsyncClient, Services], Awaitable[T]]) -> T:
            application = create_app(settings, clock=clock)
            transport = httpx.ASGITransport(app=application)
            async with (
                application.router.lifespan_context(application),
                httpx.AsyncClient(transport=transport, base_url="http://t") as http,
            ):
                return await work(http, application.state.services)

        async def before(http: httpx.AsyncClient, services: Services) -> tuple[str, object]:
            key, _ = await services.api_keys.create(ApiKeyCreate(name="carol"))
            return key, (await _create(http, auth(key), activate=True))["session_id"]

        key, session_id = await served(before)

        async def after(http: httpx.AsyncClient, _: Services) -> httpx.Response:
            return await http.get("/api/v1/sessions/current", headers=auth(key))

        current = await served(after)
        assert current.status_code == 200
        assert current.json()["session_id"] == session_id
