"""API keys over HTTP: authentication, scopes, the admin endpoints, caching and last-used times."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.api_keys.service import hash_key
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services


class TestAuthentication:
    async def test_a_missing_key_is_401_with_a_challenge(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/sessions")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("ApiKey")
        assert response.json()["error"] == {
            "type": "unauthorized",
            "message": "an API key is required in the X-API-Key header",
        }

    async def test_an_unknown_key_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/sessions", headers=auth("vk_not-a-real-key"))
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "the API key is not valid"

    async def test_a_revoked_key_is_401_at_once(self, client: httpx.AsyncClient, make_key: MakeKey) -> None:
        admin, victim = await make_key(Scope.ADMIN), await make_key(name="victim")
        assert (await client.get("/api/v1/sessions", headers=auth(victim))).status_code == 200
        listed = (await client.get("/api/v1/api-keys", headers=auth(admin))).json()
        victim_id = next(k["key_id"] for k in listed if k["name"] == "victim")
        revoked = await client.delete(f"/api/v1/api-keys/{victim_id}", headers=auth(admin))
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        response = await client.get("/api/v1/sessions", headers=auth(victim))
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "the API key has been revoked"

    async def test_an_expired_key_is_401(
        self, client: httpx.AsyncClient, make_key: MakeKey, clock: ManualClock
    ) -> None:
        key = await make_key(days=1)
        assert (await client.get("/api/v1/sessions", headers=auth(key))).status_code == 200
        clock.advance(timedelta(days=1, seconds=1))
        response = await client.get("/api/v1/sessions", headers=auth(key))
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "the API key has expired"

    async def test_the_key_itself_is_never_stored(self, services: Services, make_key: MakeKey) -> None:
        key = await make_key()
        (record,) = await services.api_keys.list()
        stored = await services.documents.get("api_keys", record.key_id)
        assert stored is not None
        assert key not in repr(stored.data)
        assert stored.data["key_hash"] == hash_key(key)


class TestScopes:
    @pytest.mark.parametrize(
        ("scope", "may_read", "may_write", "may_admin"),
        [(Scope.READ, True, False, False), (Scope.WRITE, True, True, False), (Scope.ADMIN, True, True, True)],
    )
    async def test_each_scope_grants_itself_and_the_ones_below(
        self,
        client: httpx.AsyncClient,
        make_key: MakeKey,
        scope: Scope,
        may_read: bool,
        may_write: bool,
        may_admin: bool,
    ) -> None:
        headers = auth(await make_key(scope))
        read = await client.get("/api/v1/sessions", headers=headers)
        write = await client.post("/api/v1/sessions", headers=headers, json={"checkpoint_id": 7})
        admin = await client.get("/api/v1/api-keys", headers=headers)
        assert (read.status_code == 200, write.status_code == 201, admin.status_code == 200) == (
            may_read,
            may_write,
            may_admin,
        )
        for response in (read, write, admin):
            if response.status_code >= 400:
                assert response.status_code == 403
                assert response.json()["error"]["type"] == "forbidden"


class TestAdminEndpoints:
    async def test_create_shows_the_key_once_and_it_works(
        self, client: httpx.AsyncClient, make_key: MakeKey
    ) -> None:
        admin = auth(await make_key(Scope.ADMIN))
        created = await client.post(
            "/api/v1/api-keys",
            headers=admin,
            json={
                "name": "nightly ci",
                "scopes": ["read"],
                "expires_in_days": 30,
                "metadata": {"team": "qa"},
            },
        )
        assert created.status_code == 201
        body = created.json()
        assert body["key"].startswith("vk_")
        assert body["prefix"] == body["key"][:10]
        assert (body["name"], body["user_id"], body["scopes"]) == ("nightly ci", "nightly-ci", ["read"])
        assert "key_hash" not in body
        assert (await client.get("/api/v1/sessions", headers=auth(body["key"]))).status_code == 200
        fetched = (await client.get(f"/api/v1/api-keys/{body['key_id']}", headers=admin)).json()
        assert "key" not in fetched
        assert fetched["metadata"] == {"team": "qa"}

    async def test_bad_input_is_422_naming_the_field(
        self, client: httpx.AsyncClient, make_key: MakeKey
    ) -> None:
        admin = auth(await make_key(Scope.ADMIN))
        response = await client.post(
            "/api/v1/api-keys", headers=admin, json={"name": "x", "scopes": ["root"], "user_id": "a/b"}
        )
        assert response.status_code == 422
        assert {d["field"] for d in response.json()["error"]["details"]} == {"scopes[0]", "user_id"}

    async def test_unstorable_metadata_is_422(self, client: httpx.AsyncClient, make_key: MakeKey) -> None:
        admin = auth(await make_key(Scope.ADMIN))
        response = await client.post(
            "/api/v1/api-keys", headers=admin, json={"name": "x", "metadata": {"rows": [[1], [2]]}}
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "metadata"

    async def test_unknown_key_ids_are_404(self, client: httpx.AsyncClient, make_key: MakeKey) -> None:
        admin = auth(await make_key(Scope.ADMIN))
        for key_id in ("key_0000", "nonsense", ".."):
            response = await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)
            assert response.status_code == 404, key_id


class TestCachingAndUse:
    async def test_a_validated_key_is_served_from_memory_within_its_ttl(
        self, client: httpx.AsyncClient, make_key: MakeKey, services: Services
    ) -> None:
        key = await make_key()
        assert (await client.get("/api/v1/sessions", headers=auth(key))).status_code == 200
        # Deleting the record behind the service's back: only the in-process cache can still vouch for it.
        (record,) = await services.api_keys.list()
        await services.documents.delete("api_keys", record.key_id)
        assert (await client.get("/api/v1/sessions", headers=auth(key))).status_code == 200

    async def test_after_the_ttl_the_store_is_asked_again(
        self, client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
    ) -> None:
        key = await make_key()
        assert (await client.get("/api/v1/sessions", headers=auth(key))).status_code == 200
        (record,) = await services.api_keys.list()
        await services.documents.delete("api_keys", record.key_id)
        clock.advance(timedelta(seconds=services.settings.api_key_cache_seconds + 1))
        assert (await client.get("/api/v1/sessions", headers=auth(key))).status_code == 401

    async def test_last_used_is_recorded_by_the_flush_not_by_each_request(
        self, client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
    ) -> None:
        key = await make_key()
        used_at = clock.now()
        for _ in range(3):
            assert (await client.get("/api/v1/sessions", headers=auth(key))).status_code == 200
        (record,) = await services.api_keys.list()
        assert record.last_used_at is None
        assert await services.api_keys.flush_last_used() == 1
        (record,) = await services.api_keys.list()
        assert record.last_used_at == used_at
        assert await services.api_keys.flush_last_used() == 0
