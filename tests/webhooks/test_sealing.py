"""Webhook signing secrets sealed under one key in the secrets store (envelope encryption): what is
stored, webhooks made before (sealed under WEBHOOK_SECRET_KEY or the data folder's key file) going on
working and re-sealed, a rotation of the key never breaking a delivery, and what cannot be opened."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

from tests.webhooks.receiver import Receiver, receiving
from virtuoso_api.config import Settings
from virtuoso_api.errors import Conflict
from virtuoso_api.infra.secrets import VersionState
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.secrets import SecretType
from virtuoso_api.services import Services
from virtuoso_api.webhooks.models import CLAIMS, WEBHOOKS, SecretRotation, WebhookCreate
from virtuoso_api.webhooks.resealing import Sweep
from virtuoso_api.webhooks.sealing import LEGACY_KEY_FILE, new_secret

SEALING_KEY = "test-webhook-sealing-key"


@asynccontextmanager
async def running(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    async with Services.running(settings, clock=clock) as services:
        yield services


async def delivered_with(services: Services, receiver: Receiver, webhook_id: str, secret: str) -> None:
    """A test delivery now, which the library's checker verifies with ``secret``."""
    done = await services.webhooks.test(None, webhook_id)
    assert done.delivered, done.delivery
    Webhook(secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)


async def sealed_secrets(services: Services, webhook_id: str) -> list[str]:
    document = await services.documents.get(WEBHOOKS, webhook_id)
    assert document is not None
    return [entry["sealed"] for entry in document.data["secrets"]]


async def legacy_webhook(services: Services, key: bytes, url: str) -> tuple[str, str]:
    """A webhook as a version before the secrets store held the key wrote it: its secret a Fernet token."""
    secret, now = new_secret(), format_timestamp(services.clock.now())
    record: dict[str, object] = {
        "owner": "ana",
        "url": url,
        "events": [],
        "enabled": True,
        "created_at": now,
        "updated_at": now,
        "secrets": [{"sealed": Fernet(key).encrypt(secret.encode()).decode(), "created_at": now}],
    }
    webhook_id = "wh_0123456789abcdef"
    await services.documents.create(WEBHOOKS, webhook_id, record | {"webhook_id": webhook_id})
    return webhook_id, secret


async def test_a_secret_is_kept_sealed_under_the_key_in_the_secrets_store(
    settings: Settings, clock: ManualClock
) -> None:
    async with receiving() as receiver, running(settings, clock) as services:
        made = await services.webhooks.create("ana", WebhookCreate(url=receiver.url))
        (sealed,) = await sealed_secrets(services, made.webhook_id)
        assert sealed.startswith("v1:1:")
        assert made.secret not in sealed
        assert not (settings.data_dir / LEGACY_KEY_FILE).exists()  # no key file is made any more
        versions = await services.secrets.versions(services.secrets.ref(SecretType.WEBHOOK_SEALING_KEY))
        assert [v.number for v in versions] == [1]
        await delivered_with(services, receiver, made.webhook_id, made.secret)
        # Bound to its webhook: the same sealed secret on another webhook does not open.
        other = await services.webhooks.create("ana", WebhookCreate(url=receiver.url))
        await services.documents.patch(
            WEBHOOKS,
            other.webhook_id,
            {"secrets": [{"sealed": sealed, "created_at": "2026-01-01T00:00:00Z"}]},
        )
        services.webhooks.directory.forget(await services.webhooks.owned(None, other.webhook_id))
        failed = await services.webhooks.test(None, other.webhook_id)
        assert not failed.delivered
        assert failed.delivery.attempts[-1].error == "not sent: the webhook's signing secret cannot be opened"
    assert len(receiver.requests) == 1


async def test_a_webhook_sealed_under_webhook_secret_key_keeps_working_and_is_resealed(
    settings: Settings, clock: ManualClock
) -> None:
    key = Fernet.generate_key()
    with_key = settings.model_copy(update={"webhook_secret_key": SecretStr(key.decode())})
    async with receiving() as receiver:
        async with running(with_key, clock) as services:
            webhook_id, secret = await legacy_webhook(services, key, receiver.url)
            await delivered_with(services, receiver, webhook_id, secret)  # before the sweep, as it was
            await services.webhooks.resealer.at_start()
            (sealed,) = await sealed_secrets(services, webhook_id)
            assert sealed.startswith("v1:1:")
            await delivered_with(services, receiver, webhook_id, secret)
        # WEBHOOK_SECRET_KEY unset, as the start-up message asks: nothing needs it any more.
        async with running(settings, clock) as services:
            await delivered_with(services, receiver, webhook_id, secret)


async def test_a_webhook_sealed_under_the_data_folders_key_file_is_resealed(
    settings: Settings, clock: ManualClock
) -> None:
    key = Fernet.generate_key()
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / LEGACY_KEY_FILE).write_bytes(key)
    async with receiving() as receiver, running(settings, clock) as services:
        webhook_id, secret = await legacy_webhook(services, key, receiver.url)
        await services.webhooks.resealer.at_start()
        assert (await sealed_secrets(services, webhook_id))[0].startswith("v1:1:")
        (settings.data_dir / LEGACY_KEY_FILE).unlink()
        await delivered_with(services, receiver, webhook_id, secret)


async def test_a_legacy_secret_without_its_key_is_a_failed_attempt_naming_the_setting(
    settings: Settings, clock: ManualClock
) -> None:
    async with receiving() as receiver, running(settings, clock) as services:
        webhook_id, _ = await legacy_webhook(services, Fernet.generate_key(), receiver.url)
        assert await services.webhooks.resealer.sweep() == Sweep(unopened=1)  # left as it is, logged
        failed = await services.webhooks.test(None, webhook_id)
    assert not failed.delivered
    assert receiver.requests == []


async def test_rotating_the_sealing_key_never_breaks_a_delivery(
    settings: Settings, clock: ManualClock
) -> None:
    # A grace of a minute, so the signed timestamps stay within the verifier's tolerance of the wall clock.
    settings = settings.model_copy(update={"secret_rotation_grace_seconds": 60})
    async with receiving() as receiver, running(settings, clock) as services:
        made = await services.webhooks.create("ana", WebhookCreate(url=receiver.url))
        rotated = await services.webhooks.rotate_secret(
            "ana", made.webhook_id, SecretRotation(grace_seconds=3600)
        )  # two secrets sign for an hour: both are re-sealed
        ref = services.secrets.ref(SecretType.WEBHOOK_SEALING_KEY)
        await services.secrets.rotate(ref)  # as `virtuoso-api secrets rotate webhook-sealing-key --generate`
        await delivered_with(services, receiver, made.webhook_id, rotated.secret)  # old version, still read
        await services.webhooks.resealer.when_rotated()  # the periodic check sees version 2
        assert [s[:5] for s in await sealed_secrets(services, made.webhook_id)] == ["v1:2:", "v1:2:"]
        # The rotation's grace ends: version 1 is disabled. Nothing is sealed under it any more.
        clock.advance(timedelta(seconds=settings.secret_rotation_grace_seconds + 1))
        await services.secrets.retire(ref)
        states = {v.number: v.state for v in await services.secrets.versions(ref)}
        assert states == {2: VersionState.ENABLED, 1: VersionState.DISABLED}
        await delivered_with(services, receiver, made.webhook_id, rotated.secret)
        await services.webhooks.resealer.when_rotated()  # nothing new: no sweep
        assert [s[:5] for s in await sealed_secrets(services, made.webhook_id)] == ["v1:2:", "v1:2:"]
    events = [json.loads(r.body)["type"] for r in receiver.requests]
    assert events == ["webhook.test", "webhook.test"]


async def test_a_webhooks_secrets_are_rewritten_by_one_writer_at_a_time(
    settings: Settings, clock: ManualClock
) -> None:
    """A re-seal and a rotation of the webhook's own secret both rewrite its list of secrets: while
    one holds the webhook's claim (here another instance's, in the store), the other does not write
    over it (the sweep leaves it for its next round, the rotation answers 409 after a moment)."""
    key = Fernet.generate_key()
    with_key = settings.model_copy(update={"webhook_secret_key": SecretStr(key.decode())})
    async with receiving() as receiver, running(with_key, clock) as services:
        webhook_id, secret = await legacy_webhook(services, key, receiver.url)
        claim = f"secrets.{webhook_id}"
        await services.documents.create(CLAIMS, claim, {"at": format_timestamp(clock.now())})
        assert await services.webhooks.resealer.sweep() == Sweep(busy=1)
        with pytest.raises(Conflict, match="being changed; try again"):
            await services.webhooks.rotate_secret("ana", webhook_id, SecretRotation(grace_seconds=0))
        (sealed,) = await sealed_secrets(services, webhook_id)
        assert not sealed.startswith("v1:")  # untouched by either
        await delivered_with(services, receiver, webhook_id, secret)

        await services.documents.delete(CLAIMS, claim)
        rotated = await services.webhooks.rotate_secret("ana", webhook_id, SecretRotation(grace_seconds=0))
        assert await services.webhooks.resealer.sweep() == Sweep()  # the rotation sealed it anew
        await delivered_with(services, receiver, webhook_id, rotated.secret)
        assert await services.documents.get(CLAIMS, claim) is None  # each writer let go of it
