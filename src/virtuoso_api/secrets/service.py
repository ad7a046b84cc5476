"""Storing, reading, rotating and retiring the service's secrets, over the secrets port.

Any domain keeps a named secret here: ``ref(SecretType.WEBHOOK_SIGNING_KEY, "orders")`` names it in
this environment; :meth:`SecretsService.put` stores a value (creating the secret the first time),
:meth:`~SecretsService.get` reads it through the cache, :meth:`~SecretsService.ensure` reads it or
stores a generated one (signing keys). Every secret value read or stored is registered with the
redactor before anything else sees it, so no log line, error answer or history entry can show it.
A new version of an existing secret is announced with a ``secret.rotated`` event (its name and
version, never its value) once the root gives the service a publisher (:meth:`announce_to`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from virtuoso_api.errors import BackendUnavailable, Conflict, InvalidInput
from virtuoso_api.events import SYSTEM_OWNER, EventPublisher, EventType
from virtuoso_api.infra.secrets import (
    LATEST,
    SecretAccessDenied,
    SecretAlreadyExists,
    SecretNotFound,
    SecretStore,
    SecretUnreadable,
    VersionInfo,
    VersionRef,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.kit.redact import register_secret
from virtuoso_api.secrets.cache import SecretCache, StaleEntry
from virtuoso_api.secrets.retention import Retirement, plan_retirement
from virtuoso_api.secrets.types import (
    VALUE_MODELS,
    SecretRef,
    SecretType,
    SecretValue,
    decode_value,
    validate_value,
)

logger = logging.getLogger(__name__)

_RETIRE_EVERY_SECONDS = 3600
#: How long, in steps, ``ensure`` waits for whoever created a secret to store its first version.
_CREATOR_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


@dataclass(frozen=True)
class StoredSecret:
    ref: SecretRef
    version: int
    value: SecretValue


@dataclass(frozen=True)
class Rotation:
    stored: StoredSecret
    retired: Retirement = field(default_factory=Retirement)


@dataclass(frozen=True)
class SecretsHealth:
    backend: str
    status: str  # ok | stale | unavailable
    in_use: int
    stale: list[StaleEntry]


class SecretsService:
    def __init__(
        self,
        store: SecretStore,
        *,
        clock: Clock,
        environment: str,
        cache_ttl: timedelta,
        stale_grace: timedelta,
        rotation_grace: timedelta,
        versions_kept: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self.environment = environment
        self._cache: SecretCache[StoredSecret] = SecretCache(clock=clock, ttl=cache_ttl, grace=stale_grace)
        self._rotation_grace = rotation_grace
        self._keep = versions_kept
        self._in_use: dict[str, SecretRef] = {}
        self._retiring_refused = False
        self._events: EventPublisher | None = None

    @property
    def backend(self) -> str:
        return self._store.backend

    @property
    def cache(self) -> SecretCache[StoredSecret]:
        return self._cache

    def ref(self, secret_type: SecretType | str, name: str | None = None) -> SecretRef:
        return SecretRef.of(secret_type, name, environment=self.environment)

    def announce_to(self, events: EventPublisher) -> None:
        """Publish ``secret.rotated`` for every new version of an existing secret from now on."""
        self._events = events

    def needs(self) -> Needs:
        return Needs(
            periodic=(
                PeriodicJob("retire superseded secret versions", _RETIRE_EVERY_SECONDS, self.retire_in_use),
            )
        )

    # -- writing -----------------------------------------------------------------------------------

    async def create(self, ref: SecretRef, fields: Any) -> StoredSecret:
        """A new secret with its first version; :class:`Conflict` if it already has one."""
        value = self._checked(ref, fields)
        try:
            await self._store.create(ref.secret_id, labels=ref.labels)
        except SecretAlreadyExists:
            # Ours from a create whose answer was lost, or an empty one: only versions make it taken.
            if await self._store.versions(ref.secret_id):
                raise Conflict(f"secret {ref} already exists; rotate it to store a new value") from None
        return await self._add(ref, value)

    async def put(self, ref: SecretRef, fields: Any | None) -> Rotation:
        """Store ``fields`` (a generated value for ``None``) as the secret's new value, creating the
        secret the first time; later versions retire older ones as a rotation does.

        A version is tried first, so storing into an existing secret needs only the right to add
        versions (Secret Manager refuses a create to an identity without ``secrets.create`` even when
        the secret exists)."""
        value = self._generated(ref) if fields is None else self._checked(ref, fields)
        try:
            stored = await self._add(ref, value)
        except SecretNotFound:
            with contextlib.suppress(SecretAlreadyExists):  # made by someone else in between
                await self._store.create(ref.secret_id, labels=ref.labels)
            return Rotation(await self._add(ref, value))
        return await self._rotated(stored)

    async def rotate(self, ref: SecretRef, fields: Any | None = None) -> Rotation:
        """A new version of an existing secret (a generated one when ``fields`` is None and the type
        can make one), then the retirement of older ones (see ``retention.py``)."""
        value = self._generated(ref) if fields is None else self._checked(ref, fields)
        try:
            stored = await self._add(ref, value)
        except SecretNotFound:
            raise SecretNotFound(
                f"secret {ref} does not exist: store a first value before rotating it"
            ) from None
        return await self._rotated(stored)

    async def _rotated(self, stored: StoredSecret) -> Rotation:
        """After a new version of an existing secret: older ones retired, the rotation announced."""
        rotation = Rotation(stored, await self.retire(stored.ref))
        if self._events is not None and stored.version > 1:
            await self._events.publish_or_log(
                EventType.SECRET_ROTATED,
                {"secret": stored.ref.secret_id, "version": str(stored.version)},
                owner=SYSTEM_OWNER,
                subject=f"secret/{stored.ref.secret_id}",
                dedupe_key=f"secret:{stored.ref.secret_id}:{stored.version}",
            )
        return rotation

    async def delete(self, ref: SecretRef) -> bool:
        """Delete the secret and every version; ``False`` if there was none."""
        self._cache.drop(ref.secret_id)
        self._in_use.pop(ref.secret_id, None)
        try:
            await self._store.delete(ref.secret_id)
        except SecretNotFound:
            return False
        return True

    # -- reading -----------------------------------------------------------------------------------

    async def get(self, ref: SecretRef, *, version: int | None = None) -> StoredSecret:
        """The newest version through the cache, or ``version`` straight from the store."""
        if version is not None:
            return await self._read(ref, version)
        self._in_use[ref.secret_id] = ref
        return await self._cache.get(ref.secret_id, lambda: self._read(ref, LATEST))

    async def find(self, ref: SecretRef) -> StoredSecret | None:
        try:
            return await self.get(ref)
        except SecretNotFound:
            return None

    async def refresh(self, ref: SecretRef) -> StoredSecret:
        """Read the newest version now, whatever the cache holds (after a credential was refused)."""
        self._in_use[ref.secret_id] = ref
        return await self._cache.refresh(ref.secret_id, lambda: self._read(ref, LATEST))

    async def ensure(self, ref: SecretRef) -> StoredSecret:
        """The secret, or a generated one stored now. Callers racing to make it (instances starting
        together) end up with one value: whoever creates the secret stores the first version, the
        others wait for it rather than adding versions of their own."""
        found = await self.find(ref)
        if found is not None:
            return found
        value = self._generated(ref)
        try:
            await self._store.create(ref.secret_id, labels=ref.labels)
        except SecretAlreadyExists:
            return await self._first_version_of_another(ref, value)
        return await self._add(ref, value)

    async def _first_version_of_another(self, ref: SecretRef, value: SecretValue) -> StoredSecret:
        for pause in _CREATOR_PAUSES:
            try:
                return await self.refresh(ref)
            except SecretNotFound:
                await asyncio.sleep(pause)
        # Its creator stored no version in all that time (it died in between): the secret is ours.
        return await self._add(ref, value)

    async def versions(self, ref: SecretRef) -> list[VersionInfo]:
        return await self._store.versions(ref.secret_id)

    # -- retiring ----------------------------------------------------------------------------------

    async def retire(self, ref: SecretRef) -> Retirement:
        """Disable and destroy the versions the retention rule names; what it did."""
        plan = plan_retirement(
            await self._store.versions(ref.secret_id),
            now=self._clock.now(),
            grace=self._rotation_grace,
            keep=self._keep,
        )
        for number in plan.disable:
            await self._store.disable(ref.secret_id, number)
        for number in plan.destroy:
            await self._store.destroy(ref.secret_id, number)
        if plan:
            logger.info("secret %s: disabled versions %s, destroyed %s", ref, plan.disable, plan.destroy)
        return plan

    async def retire_in_use(self) -> None:
        """The periodic job: retire old versions of the secrets this process reads. An identity that
        may only read them (``secretAccessor``) is told once, then left to the next rotation."""
        if self._retiring_refused:
            return
        for ref in self._held():
            try:
                await self.retire(ref)
            except SecretAccessDenied:
                self._retiring_refused = True
                logger.warning(
                    "old versions of secret %s are not retired by this service: its identity lacks "
                    "roles/secretmanager.secretVersionManager (the next rotation retires them)",
                    ref,
                )
                return
            except (SecretNotFound, BackendUnavailable) as exc:
                logger.info("secret %s not retired this round: %s", ref, exc)

    # -- readiness ---------------------------------------------------------------------------------

    async def health(self) -> SecretsHealth:
        """Reads again what is due (as the next caller would), then says whether every secret in use
        is served fresh (``ok``), stale within the grace period (``stale``) or not at all."""
        for key in self._cache.due():
            ref = self._in_use.get(key)
            if ref is None:
                continue
            # A failure is recorded in the entry; a missing secret is its user's concern (Virtuoso: 503).
            with contextlib.suppress(BackendUnavailable, SecretNotFound):
                await self.refresh(ref)
        stale = self._cache.stale()
        status = "ok"
        if stale:
            now = self._clock.now()
            served = all(entry.served_until is not None and now < entry.served_until for entry in stale)
            status = "stale" if served else "unavailable"
        return SecretsHealth(self.backend, status, len(self._held()), stale)

    def _held(self) -> list[SecretRef]:
        """The secrets this process read and holds a value of (not those it found missing)."""
        held = []
        for key, ref in self._in_use.items():
            entry = self._cache.peek(key)
            if entry is not None and entry.value is not None:
                held.append(ref)
        return held

    # -- the store ---------------------------------------------------------------------------------

    async def _add(self, ref: SecretRef, value: SecretValue) -> StoredSecret:
        info = await self._store.add_version(ref.secret_id, value.encode())
        stored = StoredSecret(ref, info.number, value)
        self._cache.put(ref.secret_id, stored)
        return stored

    async def _read(self, ref: SecretRef, version: VersionRef) -> StoredSecret:
        accessed = await self._store.access(ref.secret_id, version)
        try:
            value = decode_value(ref.type, accessed.data)
        except ValueError as exc:
            raise SecretUnreadable(
                f"version {accessed.number} of secret {ref} is not a {ref.type.value}: {exc}"
            ) from None
        _register(value)
        return StoredSecret(ref, accessed.number, value)

    def _checked(self, ref: SecretRef, fields: Any) -> SecretValue:
        value = validate_value(ref.type, fields)
        _register(value)
        return value

    def _generated(self, ref: SecretRef) -> SecretValue:
        value = VALUE_MODELS[ref.type].generate()
        if value is None:
            raise InvalidInput("value", f"a {ref.type.value} cannot be generated; give its fields")
        _register(value)
        return value


def _register(value: SecretValue) -> None:
    for text in value.secret_texts():
        register_secret(text)
