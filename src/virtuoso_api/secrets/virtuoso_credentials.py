"""Virtuoso's token and organization from the ``virtuoso-api-key`` secret, kept fresh without a restart.

The client asks :meth:`VirtuosoCredentialsSource.current` on every request: a dictionary look-up and
a clock read. Past the cache TTL it starts one background read and keeps answering the value it has,
so no request waits on the secret store, and a rotation is in use within the TTL. When Virtuoso
refuses the token (the old key was revoked before the TTL ran out), the client awaits
:meth:`~VirtuosoCredentialsSource.refresh`: the secret is read at once (requests refused together
share that one read) and the refused request is sent again with the new token. A token the store
still holds after Virtuoso refused it is remembered for a few seconds, so a wrong key does not send
every request to the store.

``VIRTUOSO_API_TOKEN``, when set, wins: the root then gives the client the fixed token instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from virtuoso_api.infra.secrets import SecretNotFound
from virtuoso_api.kit.clock import Clock
from virtuoso_api.secrets.cache import Entry
from virtuoso_api.secrets.service import SecretsService, StoredSecret
from virtuoso_api.secrets.types import SecretType, VirtuosoApiKey
from virtuoso_api.virtuoso.errors import VirtuosoNotConfigured

logger = logging.getLogger(__name__)

#: After the store answered with the very token Virtuoso refused, refused requests fail at once for
#: this long instead of each asking the store again.
_REFUSED_MEMO: Final = timedelta(seconds=5)


@dataclass(frozen=True)
class VirtuosoCredentials:
    """What the secret holds. ``repr`` masks the token."""

    api_key: str
    org_id: int | None
    source: str  # "environment" or "secret <id> version <n>"

    def __repr__(self) -> str:
        return f"VirtuosoCredentials(api_key='***', org_id={self.org_id!r}, source={self.source!r})"

    @classmethod
    def of(cls, stored: StoredSecret) -> VirtuosoCredentials:
        value = stored.value
        assert isinstance(value, VirtuosoApiKey)
        return cls(
            value.api_key.get_secret_value(), value.org_id, f"secret {stored.ref} version {stored.version}"
        )


class VirtuosoCredentialsSource:
    """A :class:`~virtuoso_api.virtuoso.tokens.TokenSource` over the secrets domain."""

    def __init__(
        self,
        secrets: SecretsService,
        *,
        clock: Clock,
        on_loaded: Callable[[VirtuosoCredentials], None] | None = None,
    ) -> None:
        self._secrets = secrets
        self.ref = secrets.ref(SecretType.VIRTUOSO_API_KEY)
        self._clock = clock
        #: Told of each version read (the root sets the client's organization from it).
        self.on_loaded = on_loaded
        self._background: asyncio.Task[object] | None = None
        self._refused: tuple[str, datetime] | None = None  # a token the store still held, until when
        self._seen_version: int | None = None
        # What the last entry read holds, for current(): worked out when the entry changes.
        self._entry: Entry[StoredSecret] | None = None
        self._token = ""
        self._fresh_until = self._servable_until = datetime.min.replace(tzinfo=UTC)

    async def load(self) -> VirtuosoCredentials:
        """The credentials through the cache; :class:`VirtuosoNotConfigured` if there is no secret."""
        try:
            stored = await self._secrets.get(self.ref)
        except SecretNotFound:
            raise self._not_configured() from None
        return self._loaded(stored)

    def current(self) -> str | None:
        entry = self._secrets.cache.peek(self.ref.secret_id)
        if entry is None or entry.value is None:
            return None
        if entry is not self._entry:  # a new read: what it holds is worked out once, not per request
            self._remember(entry)
        now = self._clock.now()
        if now >= self._fresh_until:
            if now >= self._servable_until:
                return None  # too stale to send: the caller awaits refresh(), which says why
            self._read_in_background()
        return self._token

    def _remember(self, entry: Entry[StoredSecret]) -> None:
        assert entry.value is not None
        self._loaded(entry.value)
        value = entry.value.value
        assert isinstance(value, VirtuosoApiKey)
        self._token = value.api_key.get_secret_value()
        self._fresh_until = entry.fresh_until
        self._servable_until = entry.servable_until(self._secrets.cache.grace)
        self._entry = entry

    async def refresh(self, rejected: str | None) -> str | None:
        if rejected is None:
            return (await self.load()).api_key
        held = self.current()
        if held is not None and held != rejected:
            return held  # another request already read the new one
        if (
            self._refused is not None
            and self._refused[0] == rejected
            and self._clock.now() < self._refused[1]
        ):
            return None
        try:
            stored = await self._secrets.refresh(self.ref)
        except SecretNotFound:
            raise self._not_configured() from None
        credentials = self._loaded(stored)
        if credentials.api_key == rejected:
            self._refused = (rejected, self._clock.now() + _REFUSED_MEMO)
            logger.warning("Virtuoso refused the token of %s, and it is still the newest", credentials.source)
            return None
        logger.info("Virtuoso refused the previous token; using %s", credentials.source)
        return credentials.api_key

    def _read_in_background(self) -> None:
        if self._background is not None and not self._background.done():
            return
        task = asyncio.get_running_loop().create_task(self._quietly())
        self._background = task

    async def _quietly(self) -> object:
        try:
            return await self._secrets.get(self.ref)
        except Exception as exc:  # the cache keeps serving what it may; readiness reports the rest
            logger.debug("background read of %s failed: %s", self.ref, exc)
            return None

    def _loaded(self, stored: StoredSecret) -> VirtuosoCredentials:
        credentials = VirtuosoCredentials.of(stored)
        if stored.version != self._seen_version:
            self._seen_version = stored.version
            if self.on_loaded is not None:
                self.on_loaded(credentials)
        return credentials

    def _not_configured(self) -> VirtuosoNotConfigured:
        return VirtuosoNotConfigured(
            f"not configured: VIRTUOSO_API_TOKEN is unset and there is no secret {self.ref} "
            f"({self._secrets.backend}); store one with: virtuoso-api secrets set virtuoso-api-key",
            check="VIRTUOSO_API_TOKEN",
        )
