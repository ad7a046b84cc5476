"""Keeping every webhook's secrets sealed under the newest version of the sealing key.

At start-up, and whenever the sealing key has a newer version than the last sweep saw (a rotation, from
this process or any other, seen within ``SECRET_CACHE_TTL_SECONDS``), every webhook whose secrets are
sealed under an older version, or under the retired ``WEBHOOK_SECRET_KEY``, is opened and sealed again.
A rotation's older versions stay readable for ``SECRET_ROTATION_GRACE_SECONDS`` (a day by default), far
longer than a sweep takes, so a delivery never meets a secret it cannot open.

Re-sealing rewrites a webhook's list of secrets, as rotating the webhook's own secret does: both hold
a short claim on the webhook (an atomic create in the claims collection), so neither writes over the
other's new list. A claim left by a process that died expires after :data:`CLAIM_FOR`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from virtuoso_api.errors import BackendUnavailable, Conflict
from virtuoso_api.infra.documents import DocumentAlreadyExists, DocumentNotFound, DocumentStore, Query
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.webhooks.directory import WebhookDirectory
from virtuoso_api.webhooks.models import CLAIMS, WEBHOOKS, Webhook
from virtuoso_api.webhooks.sealing import SealingError, SecretSeal, sealed_under

logger = logging.getLogger(__name__)

CLAIM_FOR: Final = timedelta(seconds=30)
#: Real-time pauses of a secret rotation waiting for a re-seal of the same webhook to end.
_WAITS: Final = (0.05, 0.1, 0.2, 0.4, 0.8)


class WebhookSecretsLock:
    """The claim both writers of a webhook's secrets take (module docstring)."""

    def __init__(self, store: DocumentStore, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def try_take(self, webhook_id: str) -> bool:
        now = self._clock.now()
        try:
            await self._store.create(
                CLAIMS, f"secrets.{webhook_id}", {"at": format_timestamp(now)}, expires_at=now + CLAIM_FOR
            )
        except DocumentAlreadyExists:
            return False
        return True

    async def release(self, webhook_id: str) -> None:
        await self._store.delete(CLAIMS, f"secrets.{webhook_id}")

    @contextlib.asynccontextmanager
    async def held(self, webhook_id: str) -> AsyncIterator[None]:
        """Hold the claim, waiting a moment for another holder; :class:`Conflict` if it stays taken."""
        for pause in (*_WAITS, None):
            if await self.try_take(webhook_id):
                break
            if pause is None:
                raise Conflict(f"the secrets of webhook {webhook_id} are being changed; try again")
            await asyncio.sleep(pause)
        try:
            yield
        finally:
            await self.release(webhook_id)


@dataclass
class Sweep:
    """What a sweep did: webhooks re-sealed, those whose secrets did not open (each logged with the
    reason), and those another writer held (the next check sweeps again)."""

    resealed: int = 0
    unopened: int = 0
    busy: int = 0


class Resealer:
    def __init__(
        self,
        store: DocumentStore,
        *,
        seal: SecretSeal,
        directory: WebhookDirectory,
        lock: WebhookSecretsLock,
        clock: Clock,
        legacy_source: str | None,
    ) -> None:
        self._store = store
        self._seal = seal
        self._directory = directory
        self._lock = lock
        self._clock = clock
        self._legacy_source = legacy_source
        #: The key version every webhook was sealed under at the last complete sweep.
        self.swept_version: int | None = None
        self._told = False

    async def at_start(self) -> None:
        """The start-up sweep, and what it means for ``WEBHOOK_SECRET_KEY``."""
        try:
            done = await self.sweep()
        except BackendUnavailable as exc:
            logger.warning(
                "webhook secrets not re-sealed now (%s); the periodic check tries again", exc.message
            )
            return
        self._tell(done)

    async def when_rotated(self) -> None:
        """The periodic check: a sweep only once the sealing key has a version the last sweep did not
        seal under (one cached read otherwise, and none while there is no webhook)."""
        if not (await self._store.query(Query(WEBHOOKS, limit=1))).documents:
            return
        current = await self._seal.current_version_if_any()
        if current is None or current == self.swept_version:
            return
        self._tell(await self.sweep())

    async def sweep(self) -> Sweep:
        """Re-seal every webhook not wholly under the newest version of the key."""
        done = Sweep()
        hooks = await self._directory.everyone()
        if not hooks:  # nothing sealed: the secrets store is not even asked
            return done
        known = await self._seal.current_version_if_any()
        stale = [hook for hook in hooks if not _sealed_under(hook, known)]
        if not stale:
            self.swept_version = known
            return done
        current = await self._seal.current_version()  # made now if only legacy secrets exist
        for hook in stale:
            try:
                outcome = await self._reseal(hook.webhook_id, current)
            except SealingError as exc:
                done.unopened += 1
                logger.error("webhook %s: %s", hook.webhook_id, exc.message)
                continue
            if outcome == "resealed":
                done.resealed += 1
            elif outcome == "busy":
                done.busy += 1
        if not (done.unopened or done.busy):
            self.swept_version = current
        return done

    async def _reseal(self, webhook_id: str, current: int) -> Literal["resealed", "current", "busy"]:
        if not await self._lock.try_take(webhook_id):
            return "busy"  # its owner is rotating its secret (or another instance re-seals it)
        try:
            hook = await self._directory.get(webhook_id, fresh=True)
            if hook is None or _sealed_under(hook, current):
                return "current"
            now = self._clock.now()
            live = [s for s in hook.secrets if s.expires_at is None or s.expires_at > now]
            resealed = []
            for secret in live:
                if sealed_under(secret.sealed) != current:
                    opened = await self._seal.open(secret.sealed, webhook_id=webhook_id)
                    secret = secret.model_copy(
                        update={"sealed": await self._seal.seal(opened, webhook_id=webhook_id)}
                    )
                resealed.append(secret.model_dump(mode="json"))
            try:
                await self._store.patch(WEBHOOKS, webhook_id, {"secrets": resealed})
            except DocumentNotFound:
                return "current"  # deleted meanwhile: nothing left to seal
            self._directory.forget(hook)
            return "resealed"
        finally:
            await self._lock.release(webhook_id)

    def _tell(self, done: Sweep) -> None:
        if done.resealed:
            logger.info("re-sealed the secrets of %d webhooks under %s", done.resealed, self._seal.ref)
        if done.unopened:
            logger.error(
                "%d webhooks have secrets that could not be re-sealed under %s (see above); their "
                "deliveries fail until that is fixed",
                done.unopened,
                self._seal.ref,
            )
        if self._legacy_source is not None and not (done.unopened or done.busy) and not self._told:
            self._told = True
            logger.warning(
                "%s is retired: webhook signing secrets are sealed under the secret %s, and none is "
                "sealed under it any more; %s it",
                self._legacy_source,
                self._seal.ref,
                "unset" if self._legacy_source == "WEBHOOK_SECRET_KEY" else "delete",
            )


def _sealed_under(hook: Webhook, version: int | None) -> bool:
    """Whether every secret of ``hook`` is sealed under ``version`` of the key (never, for ``None``)."""
    return version is not None and all(sealed_under(s.sealed) == version for s in hook.secrets)
