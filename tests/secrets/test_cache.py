"""The cache: one read per TTL, a rotation seen within it, and the last value served while the store is
down, for the grace period only. Time is the service's clock; reads are counted by the cache."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.drongo_emulator import Drongo
from tests.infra.secrets.conftest import store_settings
from tests.secrets.conftest import OpenService
from virtuoso_api.errors import BackendUnavailable, NotFound
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.secrets import SecretsService, SecretType, StoredSecret
from virtuoso_api.services.secrets import build_secrets_service

TTL = timedelta(seconds=300)  # SECRET_CACHE_TTL_SECONDS' default
GRACE = timedelta(seconds=3600)  # SECRET_STALE_GRACE_SECONDS' default


def token(stored: StoredSecret) -> str:
    return str(stored.value.plain()["api_key"])


async def test_a_rotation_elsewhere_is_seen_within_the_ttl(
    service: SecretsService, open_service: OpenService, clock: ManualClock
) -> None:
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    async with open_service() as operator:  # the CLI, another instance: a cache of its own
        await operator.put(ref, {"api_key": "before-rotation"})
        assert token(await service.get(ref)) == "before-rotation"
        reads = service.cache.reads
        await operator.rotate(ref, {"api_key": "after-rotation"})
        clock.advance(TTL - timedelta(seconds=1))
        assert token(await service.get(ref)) == "before-rotation"  # trusted for the TTL...
        assert service.cache.reads == reads
        clock.advance(timedelta(seconds=1))
        assert token(await service.get(ref)) == "after-rotation"  # ...and read again after it
        assert service.cache.reads == reads + 1


async def test_a_missing_secret_is_remembered_for_the_ttl(
    service: SecretsService, open_service: OpenService, clock: ManualClock
) -> None:
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    for _ in range(3):
        assert await service.find(ref) is None
    assert service.cache.reads == 1
    async with open_service() as operator:
        await operator.put(ref, {"api_key": "made-later"})
    assert await service.find(ref) is None
    clock.advance(TTL)
    found = await service.find(ref)
    assert found is not None
    assert token(found) == "made-later"


async def test_a_deleted_secret_stops_being_served_at_its_ttl(
    service: SecretsService, open_service: OpenService, clock: ManualClock
) -> None:
    """Deletion is an answer, not an outage: the grace period does not apply."""
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    await service.put(ref, {"api_key": "soon-deleted"})
    async with open_service() as operator:
        await operator.delete(ref)
    clock.advance(TTL)
    with pytest.raises(NotFound):
        await service.get(ref)
    assert (await service.health()).status == "ok"


@pytest.mark.secret_manager
async def test_while_secret_manager_is_down_the_last_value_is_served_for_the_grace_period(
    request: pytest.FixtureRequest, tmp_path: Path, private_drongo: Drongo, clock: ManualClock
) -> None:
    settings = store_settings("secret_manager", request, tmp_path)
    settings = settings.model_copy(
        update={
            "secret_manager_emulator_host": private_drongo.host,
            "remote_retry_deadline_seconds": 0.6,
            "remote_attempt_timeout_seconds": 0.3,
        }
    )
    async with build_secrets_service(settings, clock=clock) as service:
        ref = service.ref(SecretType.VIRTUOSO_API_KEY)
        await service.put(ref, {"api_key": "served-while-down"})
        assert (await service.health()).status == "ok"

        private_drongo.pause()  # connections are taken, nothing is answered
        try:
            clock.advance(TTL)
            assert token(await service.get(ref)) == "served-while-down"
            health = await service.health()
            assert (health.status, [entry.key for entry in health.stale]) == ("stale", [ref.secret_id])
            assert health.stale[0].served_until == health.stale[0].failing_since + GRACE
            clock.advance(GRACE - timedelta(seconds=1))
            assert token(await service.get(ref)) == "served-while-down"
            clock.advance(timedelta(seconds=1))  # the grace period is over
            with pytest.raises(BackendUnavailable) as caught:
                await service.get(ref)
            assert caught.value.backend == "secret_manager"
            assert (await service.health()).status == "unavailable"
        finally:
            private_drongo.resume()

        clock.advance(timedelta(seconds=settings.breaker_cooldown_seconds))
        assert token(await service.get(ref)) == "served-while-down"
        assert (await service.health()).status == "ok"


@pytest.mark.secret_manager
async def test_a_secret_never_read_is_unavailable_while_secret_manager_is_down(
    request: pytest.FixtureRequest, tmp_path: Path, private_drongo: Drongo, clock: ManualClock
) -> None:
    settings = store_settings("secret_manager", request, tmp_path).model_copy(
        update={"secret_manager_emulator_host": private_drongo.host}
    )
    private_drongo.stop()  # refused connections
    async with build_secrets_service(settings, clock=clock) as service:
        ref = service.ref(SecretType.VIRTUOSO_API_KEY)
        with pytest.raises(BackendUnavailable):
            await service.get(ref)
        health = await service.health()
        assert health.status == "unavailable"
        assert [(entry.key, entry.served_until) for entry in health.stale] == [(ref.secret_id, None)]
