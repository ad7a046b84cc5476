"""Virtuoso's credentials from the secret store: read at start-up, a rotation picked up without a
restart (within the TTL, and at once when Virtuoso refuses the old token), no command failing because
of it, and the last token served while Secret Manager is down, for the grace period only.

Virtuoso is the sandbox on a real socket (``rotating_virtuoso.py``); the secret store is the local
encrypted file or Secret Manager on drongo, configured through Settings only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import AnyHttpUrl, SecretStr

from tests.fixtures.drongo_emulator import Drongo
from tests.infra.secrets.conftest import STORES, store_settings
from tests.secrets.rotating_virtuoso import RotatingVirtuoso
from tests.support import auth
from virtuoso_api.api_keys.models import ApiKeyCreate
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED
from virtuoso_api.secrets import SecretsService, SecretType
from virtuoso_api.services import Services
from virtuoso_api.services.secrets import build_secrets_service

OLD, NEW, NEWER = "virtuoso-key-old-1e9b", "virtuoso-key-new-77c2", "virtuoso-key-newer-a410"
TTL = timedelta(seconds=300)
GRACE = timedelta(seconds=3600)


def step(n: int) -> dict[str, Any]:
    return {"command": "step-misc", "args": ["comment", f"step {n}"], "checkpoint_id": SEED.checkpoint_id}


@pytest.fixture
def virtuoso() -> Iterator[RotatingVirtuoso]:
    with RotatingVirtuoso(OLD) as served:
        yield served


@dataclass
class Running:
    http: httpx.AsyncClient
    headers: dict[str, str]
    services: Services
    operator: SecretsService  # the CLI or another instance: a cache of its own
    clock: ManualClock

    async def command(self, n: int) -> httpx.Response:
        return await self.http.post("/api/v1/commands", headers=self.headers, json=step(n))

    async def ready(self) -> httpx.Response:
        return await self.http.get("/health/ready")


@asynccontextmanager
async def running(settings: Settings, *, first_token: str = OLD) -> AsyncIterator[Running]:
    clock = ManualClock()
    async with build_secrets_service(settings, clock=clock) as operator:
        ref = operator.ref(SecretType.VIRTUOSO_API_KEY)
        await operator.put(ref, {"api_key": first_token, "org_id": SEED.organization_id})
        app = create_app(settings, clock=clock)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
        ):
            services: Services = app.state.services
            key, _ = await services.api_keys.create(ApiKeyCreate(name="ci"))
            yield Running(http, auth(key), services, operator, clock)


def pointed_at(settings: Settings, virtuoso: RotatingVirtuoso) -> Settings:
    """No VIRTUOSO_API_TOKEN, no VIRTUOSO_ORG_ID: both come from the secret."""
    return settings.model_copy(update={"virtuoso_base_url": AnyHttpUrl(virtuoso.base_url)})


@pytest.fixture(params=STORES)
def settings_with_store(
    request: pytest.FixtureRequest, tmp_path: Path, virtuoso: RotatingVirtuoso
) -> Settings:
    return pointed_at(store_settings(request.param, request, tmp_path), virtuoso)


async def test_the_service_starts_with_the_secrets_token_and_organization(
    settings_with_store: Settings, virtuoso: RotatingVirtuoso
) -> None:
    async with running(settings_with_store) as service:
        ready = (await service.ready()).json()
        assert ready["status"] == "ready", ready
        assert ready["backends"]["virtuoso"] == ready["backends"]["virtuoso"] | {"backend": "virtuoso"}
        assert ready["backends"]["secrets"]["in_use"] == 1
        assert service.services.virtuoso.client.org_id == SEED.organization_id
        created = await service.command(1)
        assert created.status_code == 201, created.text
    assert {token for token, _ in virtuoso.tokens_since(0)} == {OLD}


async def test_rotating_the_key_while_commands_run_fails_none_and_uses_the_new_token(
    settings_with_store: Settings, virtuoso: RotatingVirtuoso
) -> None:
    async with running(settings_with_store) as service:
        ref = service.operator.ref(SecretType.VIRTUOSO_API_KEY)
        assert (await service.command(0)).status_code == 201
        reads_before = service.services.secrets.cache.reads

        async def rotate_midway() -> int:
            await asyncio.sleep(0.05)  # some commands are already in flight with the old token
            await service.operator.rotate(ref, {"api_key": NEW, "org_id": SEED.organization_id})
            switched_at = len(virtuoso.seen)
            virtuoso.accept_only(NEW)  # the old key is revoked at once: the harshest rotation
            return switched_at

        async def commands(first: int, count: int) -> list[httpx.Response]:
            answers = []
            for n in range(first, first + count):  # one after another, four streams side by side
                answers.append(await service.command(n))
            return answers

        rotation = asyncio.create_task(rotate_midway())
        streams = await asyncio.gather(*(commands(1 + 10 * s, 10) for s in range(4)))
        switched_at = await rotation
        answers = [answer for stream in streams for answer in stream]
        assert [answer.status_code for answer in answers] == [201] * 40, [
            a.text for a in answers if a.status_code != 201
        ]
        # At least one command was refused with the old token and sent again with the new one...
        after_switch = virtuoso.tokens_since(switched_at)
        assert (OLD, 401) in after_switch
        assert after_switch[-1] == (NEW, 200)
        # ...and the secret was read again once for all of them, not once per refused request.
        assert service.services.secrets.cache.reads == reads_before + 1
        # Nothing was created twice: 41 steps, each answer naming its own.
        steps = {answer.json()["step_id"] for answer in answers}
        assert len(steps) == 40
        stored = virtuoso.sandbox.state.sandbox.steps.values()
        assert len([s for s in stored if s.checkpoint_id == SEED.checkpoint_id]) == 41
        more = await service.command(99)
        assert more.status_code == 201
        assert virtuoso.tokens_since(len(virtuoso.seen) - 1) == [(NEW, 200)]


async def test_a_rotation_is_used_within_the_ttl_without_any_refusal(
    settings_with_store: Settings, virtuoso: RotatingVirtuoso
) -> None:
    async with running(settings_with_store) as service:
        ref = service.operator.ref(SecretType.VIRTUOSO_API_KEY)
        assert (await service.command(1)).status_code == 201
        # A careful rotation: a new key made in Virtuoso (both work), stored, the old one revoked later.
        virtuoso.accept(OLD, NEW)
        await service.operator.rotate(ref, {"api_key": NEW})
        service.clock.advance(TTL - timedelta(seconds=1))
        assert (await service.command(2)).status_code == 201
        assert virtuoso.tokens_since(len(virtuoso.seen) - 1) == [(OLD, 200)]  # still trusted
        service.clock.advance(timedelta(seconds=1))
        assert (await service.command(3)).status_code == 201  # may still go out with the old one...
        assert (await service.ready()).status_code == 200  # ...while the secret is read anew
        virtuoso.accept_only(NEW)  # the old key is revoked only now
        revoked = len(virtuoso.seen)
        assert (await service.command(4)).status_code == 201
        # The step (and a position count, unless a cached one served): each with the new key, at once.
        calls = virtuoso.tokens_since(revoked)
        assert calls
        assert set(calls) == {(NEW, 200)}
        assert all(status == 200 for _, status in virtuoso.tokens_since(0))  # never a refusal


async def test_virtuoso_api_token_wins_over_the_secret(
    settings_with_store: Settings, virtuoso: RotatingVirtuoso
) -> None:
    virtuoso.accept_only(NEW)
    settings = settings_with_store.model_copy(
        update={"virtuoso_api_token": SecretStr(NEW), "virtuoso_org_id": 4242}
    )
    async with running(settings, first_token=OLD) as service:
        assert (await service.command(1)).status_code == 201
        assert service.services.virtuoso.client.org_id == 4242
        assert service.services.virtuoso.credentials is None
    assert {token for token, _ in virtuoso.tokens_since(0)} == {NEW}


async def test_a_store_without_the_secret_leaves_virtuoso_unconfigured_and_says_what_to_do(
    settings_with_store: Settings,
) -> None:
    app = create_app(settings_with_store, clock=ManualClock())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        key, _ = await app.state.services.api_keys.create(ApiKeyCreate(name="ci"))
        refused = await http.post("/api/v1/commands", headers=auth(key), json=step(1))
        ready = (await http.get("/health/ready")).json()["backends"]["virtuoso"]
    assert refused.status_code == 503
    if settings_with_store.use_secret_manager:
        message = refused.json()["error"]["message"]
        assert "there is no secret test-virtuoso-api-key (secret_manager)" in message
        assert "virtuoso-api secrets set virtuoso-api-key" in message
        assert ready["reason"].startswith(
            "not configured: VIRTUOSO_API_TOKEN is unset and there is no secret"
        )
    else:  # the local store is looked into at start-up: nothing there, nothing expected
        assert ready["backend"] == "unconfigured"


@pytest.mark.secret_manager
async def test_secret_manager_down_the_token_keeps_serving_for_the_grace_period_and_readiness_says_so(
    request: pytest.FixtureRequest, tmp_path: Path, virtuoso: RotatingVirtuoso, private_drongo: Drongo
) -> None:
    settings = pointed_at(store_settings("secret_manager", request, tmp_path), virtuoso).model_copy(
        update={
            "secret_manager_emulator_host": private_drongo.host,
            "remote_retry_deadline_seconds": 0.6,
            "remote_attempt_timeout_seconds": 0.3,
        }
    )
    async with running(settings) as service:
        assert (await service.command(1)).status_code == 201
        private_drongo.pause()
        try:
            service.clock.advance(TTL + timedelta(seconds=1))
            assert (await service.command(2)).status_code == 201
            ready = await service.ready()
            secrets = ready.json()["backends"]["secrets"]
            assert ready.status_code == 200, ready.text
            assert (secrets["status"], secrets["serving_stale"]) == ("stale", ["test-virtuoso-api-key"])
            assert secrets["check"] == "SECRET_MANAGER_EMULATOR_HOST"
            assert "stale_until" in secrets
            service.clock.advance(GRACE - timedelta(seconds=2))
            assert (await service.command(3)).status_code == 201  # still within the grace period

            service.clock.advance(timedelta(seconds=2))  # past it: no token is sent any more
            refused = await service.command(4)
            assert refused.status_code == 503
            assert refused.json()["error"]["details"] == {"backend": "secret_manager"}
            ready = await service.ready()
            assert ready.status_code == 503
            assert ready.json()["backends"]["secrets"]["status"] == "unavailable"
        finally:
            private_drongo.resume()
        service.clock.advance(timedelta(seconds=settings.breaker_cooldown_seconds))
        assert (await service.command(5)).status_code == 201
        assert (await service.ready()).json()["backends"]["secrets"]["status"] == "ok"
    assert {token for token, _ in virtuoso.tokens_since(0)} == {OLD}


@pytest.mark.secret_manager
async def test_a_start_while_secret_manager_is_down_degrades_and_recovers_without_a_restart(
    request: pytest.FixtureRequest, tmp_path: Path, virtuoso: RotatingVirtuoso, private_drongo: Drongo
) -> None:
    settings = pointed_at(store_settings("secret_manager", request, tmp_path), virtuoso).model_copy(
        update={"secret_manager_emulator_host": private_drongo.host}
    )
    private_drongo.stop()  # refused connections from the start
    clock = ManualClock()
    app = create_app(settings, clock=clock)
    async with (
        app.router.lifespan_context(app),  # starts all the same
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        key, _ = await app.state.services.api_keys.create(ApiKeyCreate(name="ci"))
        refused = await http.post("/api/v1/commands", headers=auth(key), json=step(1))
        assert refused.status_code == 503
        assert refused.json()["error"]["details"] == {"backend": "secret_manager"}
        ready = await http.get("/health/ready")
        backends = ready.json()["backends"]
        assert ready.status_code == 503
        assert backends["virtuoso"]["reason"] == "its credentials could not be read from Secret Manager"
        assert backends["secrets"]["status"] == "unavailable"

        private_drongo.start()  # back (empty: drongo keeps nothing), and the secret is stored
        async with build_secrets_service(settings, clock=clock) as operator:
            await operator.put(operator.ref(SecretType.VIRTUOSO_API_KEY), {"api_key": OLD})
        clock.advance(timedelta(seconds=settings.breaker_cooldown_seconds))
        created = await http.post("/api/v1/commands", headers=auth(key), json=step(2))
        assert created.status_code == 201, created.text
        assert (await http.get("/health/ready")).json()["backends"]["secrets"]["status"] == "ok"


async def test_a_fixed_token_refused_is_sent_once_and_never_again(
    settings_with_store: Settings, virtuoso: RotatingVirtuoso
) -> None:
    """VIRTUOSO_API_TOKEN cannot be refreshed: a 401 is the answer (502), after one request."""
    settings = settings_with_store.model_copy(update={"virtuoso_api_token": SecretStr(NEWER)})
    async with running(settings) as service:
        mark = len(virtuoso.seen)
        refused = await service.command(1)
        assert refused.status_code == 502
        assert virtuoso.tokens_since(mark) == [(NEWER, 401)]  # the count, refused, and nothing more
