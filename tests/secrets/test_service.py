"""The secrets domain on each store: names per environment, typed values, rotation and retirement."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.secrets.conftest import OpenService
from virtuoso_api.config import Environment
from virtuoso_api.errors import Conflict, InvalidInput, NotFound
from virtuoso_api.infra.secrets import SecretUnreadable, VersionState
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.redact import redact
from virtuoso_api.secrets import SecretsService, SecretType, SigningKey, VirtuosoApiKey

DAY = timedelta(days=1)


async def test_put_get_and_the_name_in_this_environment(service: SecretsService) -> None:
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    assert ref.secret_id == "test-virtuoso-api-key"
    first = await service.put(ref, {"api_key": "key-one-7f3a", "org_id": "1234"})
    assert (first.stored.version, first.retired.disable, first.retired.destroy) == (1, [], [])
    stored = await service.get(ref)
    assert isinstance(stored.value, VirtuosoApiKey)
    assert (stored.value.api_key.get_secret_value(), stored.value.org_id) == ("key-one-7f3a", 1234)
    await service.put(ref, {"api_key": "key-two-7f3a"})
    assert (await service.get(ref)).version == 2  # this process stored it: no wait for the TTL
    assert "key-one-7f3a" not in repr(stored)
    assert "key-one-7f3a" not in str(stored.value)


async def test_environments_keep_their_own_secrets(open_service: OpenService) -> None:
    staging_env, prod_env = Environment.STAGING, Environment.PRODUCTION
    async with open_service(environment=staging_env) as staging, open_service(environment=prod_env) as prod:
        staging_ref = staging.ref(SecretType.WEBHOOK_SIGNING_KEY, "orders")
        prod_ref = prod.ref(SecretType.WEBHOOK_SIGNING_KEY, "orders")
        assert (staging_ref.secret_id, prod_ref.secret_id) == (
            "staging-webhook-signing-key-orders",
            "production-webhook-signing-key-orders",
        )
        await staging.put(staging_ref, {"key": "s" * 40})
        assert await prod.find(prod_ref) is None
        await prod.put(prod_ref, {"key": "p" * 40})
        staged = (await staging.get(staging_ref)).value
        assert isinstance(staged, SigningKey)
        assert staged.key.get_secret_value() == "s" * 40


async def test_create_rotate_and_delete(service: SecretsService) -> None:
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    with pytest.raises(NotFound):
        await service.rotate(ref, {"api_key": "k-1"})
    await service.create(ref, {"api_key": "k-1"})
    with pytest.raises(Conflict, match="already exists; rotate it"):
        await service.create(ref, {"api_key": "k-2"})
    rotated = await service.rotate(ref, {"api_key": "k-2"})
    assert rotated.stored.version == 2
    assert [v.number for v in await service.versions(ref)] == [2, 1]
    assert await service.delete(ref) is True
    assert await service.delete(ref) is False
    assert await service.find(ref) is None


async def test_a_secret_left_without_versions_can_still_be_created(service: SecretsService) -> None:
    ref = service.ref(SecretType.BLOB_SIGNING_KEY)
    # As a create whose answer was lost, or one that failed before its first version, leaves it.
    await service._store.create(ref.secret_id, labels=ref.labels)
    created = await service.create(ref, {"key": "b" * 32})
    assert created.version == 1


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({}, "value.api_key", "Field required"),
        (
            {"api_key": "k", "org": 1},
            "value.org",
            "is not a field of virtuoso-api-key (fields: api_key, org_id)",
        ),
        ({"api_key": "k", "org_id": "acme"}, "value.org_id", "Input should be a valid integer"),
        ({"api_key": "k", "org_id": 0}, "value.org_id", "Input should be greater than or equal to 1"),
        ({"api_key": "a\nb-hidden"}, "value.api_key", "must be printable ASCII (it contains a control"),
        ({"api_key": "  "}, "value.api_key", "must not be empty"),
        ("not-an-object", "value", "must be an object with the fields of virtuoso-api-key"),
    ],
)
async def test_a_bad_value_names_the_field_and_never_quotes_it(
    service: SecretsService, fields: object, field: str, reason: str
) -> None:
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    with pytest.raises(InvalidInput) as caught:
        await service.put(ref, fields)
    assert caught.value.field == field
    assert caught.value.reason.startswith(reason)
    assert "hidden" not in caught.value.message
    assert await service.find(ref) is None


async def test_bad_types_and_names_are_refused(service: SecretsService) -> None:
    with pytest.raises(InvalidInput, match="'ssh-key' is not a secret type; choose from virtuoso-api-key"):
        service.ref("ssh-key")
    with pytest.raises(InvalidInput, match="name: must be 1 to 100 of"):
        service.ref(SecretType.WEBHOOK_SIGNING_KEY, "a/b")
    with pytest.raises(InvalidInput, match="at least 32 characters"):
        await service.put(service.ref(SecretType.WEBHOOK_SIGNING_KEY, "x"), {"key": "short"})
    with pytest.raises(InvalidInput, match="cannot be generated"):
        await service.ensure(service.ref(SecretType.VIRTUOSO_API_KEY))


async def test_a_token_added_by_hand_as_plain_text_is_read(service: SecretsService) -> None:
    """``gcloud secrets versions add production-virtuoso-api-key --data-file=token.txt``."""
    ref = service.ref(SecretType.VIRTUOSO_API_KEY)
    store = service._store
    await store.create(ref.secret_id, labels=ref.labels)
    await store.add_version(ref.secret_id, b"plain-token-from-a-file\n")
    value = (await service.get(ref)).value
    assert isinstance(value, VirtuosoApiKey)
    assert (value.api_key.get_secret_value(), value.org_id) == ("plain-token-from-a-file", None)
    await store.add_version(ref.secret_id, b'{"api_key": 5, "org_id": 1}')
    with pytest.raises(
        SecretUnreadable, match=r"version 2 of secret test-virtuoso-api-key is not a virtuoso-api-key"
    ):
        await service.get(ref, version=2)


async def test_every_value_read_or_stored_is_masked_everywhere(
    service: SecretsService, open_service: OpenService
) -> None:
    ref = service.ref(SecretType.WEBHOOK_SIGNING_KEY, "hooks")
    stored = await service.ensure(ref)
    generated = stored.value.plain()["key"]
    assert len(generated) >= 32
    assert redact(f"signed with {generated!r}") == "signed with '***'"
    async with open_service() as other:
        # Another process reads the generated key: the same one, not a second generation.
        assert (await other.ensure(ref)).value.plain()["key"] == generated


async def test_two_callers_ensuring_one_key_at_once_share_it(open_service: OpenService) -> None:
    async with open_service() as one, open_service() as two:
        ref = one.ref(SecretType.WEBHOOK_SIGNING_KEY, "race")
        got = await asyncio.gather(*(service.ensure(ref) for service in (one, two) for _ in range(3)))
        assert len({stored.value.plain()["key"] for stored in got}) == 1
        assert len(await one.versions(ref)) == 1


async def test_rotation_retires_old_versions_after_the_grace_period(
    service: SecretsService, clock: ManualClock
) -> None:
    """Defaults: older versions disabled a day after they were superseded, three kept."""
    if service.backend == "secret_manager":
        pytest.skip("versions are stamped by the server's clock, which a test cannot move (see below)")
    ref = service.ref(SecretType.BLOB_SIGNING_KEY)
    await service.put(ref, {"key": "v1" * 20})
    for day in range(2, 6):
        clock.advance(DAY / 2)
        rotated = await service.rotate(ref)  # generated keys
        assert rotated.stored.version == day
        clock.advance(DAY / 2)
    states = {v.number: v.state for v in await service.versions(ref)}
    # v5 is in use; v4 was superseded half a day ago (grace); v3 a day and a half ago (disabled);
    # v2 and v1 are past the three kept and past their grace: destroyed.
    assert states == {
        5: VersionState.ENABLED,
        4: VersionState.ENABLED,
        3: VersionState.DISABLED,
        2: VersionState.DESTROYED,
        1: VersionState.DESTROYED,
    }
    clock.advance(DAY)
    retired = await service.retire(ref)  # what the server's hourly job does
    assert (retired.disable, retired.destroy) == ([4], [])
    assert (await service.get(ref)).version == 5


async def test_rotation_retires_old_versions_without_a_grace_period(
    open_service: OpenService, clock: ManualClock
) -> None:
    """On each store, timed by the store: Secret Manager stamps versions with its own clock, so the
    service's clock is set just past the real time before rotating."""
    clock.advance(datetime.now(UTC) + timedelta(minutes=1) - clock.now())
    async with open_service(secret_rotation_grace_seconds=0, secret_versions_kept=2) as service:
        ref = service.ref(SecretType.BLOB_SIGNING_KEY)
        await service.put(ref, {"key": "v1" * 20})
        await service.rotate(ref)
        last = await service.rotate(ref)
        assert (last.retired.disable, last.retired.destroy) == ([2], [1])
        states = [(v.number, v.state) for v in await service.versions(ref)]
        assert states == [(3, VersionState.ENABLED), (2, VersionState.DISABLED), (1, VersionState.DESTROYED)]
        assert (await service.get(ref)).version == 3


async def test_the_hourly_job_retires_the_secrets_this_process_reads(
    service: SecretsService, open_service: OpenService, clock: ManualClock
) -> None:
    if service.backend == "secret_manager":
        pytest.skip("versions are stamped by the server's clock, which a test cannot move")
    used, untouched = (
        service.ref(SecretType.BLOB_SIGNING_KEY),
        service.ref(SecretType.WEBHOOK_SIGNING_KEY, "x"),
    )
    async with open_service() as operator:
        for ref in (used, untouched):
            await operator.put(ref, None)
            await operator.rotate(ref)
    await service.get(used)
    assert await service.find(service.ref(SecretType.VIRTUOSO_API_KEY)) is None  # missing: not retired
    clock.advance(DAY)
    await service.retire_in_use()
    assert [v.state for v in await service.versions(used)] == [VersionState.ENABLED, VersionState.DISABLED]
    assert [v.state for v in await service.versions(untouched)] == [VersionState.ENABLED] * 2
    assert (await service.health()).in_use == 1
