"""``secret_manager_client``: Virtuoso credentials and service secrets, as the seed promised.

A thin facade over the secrets domain the service itself uses, so a key stored here is the key the
server reads, under the same names (``{ENVIRONMENT}-{type}``) and rules (typed values, rotation with
retirement, masking everywhere)::

    from virtuoso_api.gcp import SecretType, get_secret_manager_client

    secrets = get_secret_manager_client()
    creds = await secrets.load_virtuoso_credentials()      # None until there are some
    await secrets.create_secret(SecretType.VIRTUOSO_API_KEY, {"api_key": "secret-key", "org_id": "1234"})
    await secrets.rotate_secret(SecretType.VIRTUOSO_API_KEY, {"api_key": "new-secret-key", "org_id": "1234"})

The backend follows ``USE_SECRET_MANAGER``: Secret Manager when on, the local encrypted file in
``DATA_DIR`` when off. Only the secrets store is opened (not the documents store, not Virtuoso); it is
kept until :meth:`SecretManagerClient.close`. Use it from one event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from virtuoso_api.config import Settings
from virtuoso_api.gcp._facade import FacadeClient, OnePerProcess
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.secrets import SecretsService, SecretType, StoredSecret
from virtuoso_api.secrets.virtuoso_credentials import VirtuosoCredentials
from virtuoso_api.services.secrets import build_secrets_service

__all__ = [
    "SecretManagerClient",
    "SecretType",
    "VirtuosoCredentials",
    "close_secret_manager_client",
    "get_secret_manager_client",
]

JsonDict = dict[str, Any]


class SecretManagerClient(FacadeClient[SecretsService]):
    """Opens only the secrets store (not the documents store, not Virtuoso)."""

    @property
    def backend(self) -> str:
        """``secret_manager`` or ``local``: where secrets go (known without opening anything)."""
        return "secret_manager" if self.settings.use_secret_manager else "local"

    def _opening(self, settings: Settings) -> AbstractAsyncContextManager[SecretsService]:
        return build_secrets_service(settings, clock=self._clock or SystemClock(), announce=True)

    # -- Virtuoso's credentials ------------------------------------------------------------------

    async def load_virtuoso_credentials(self) -> VirtuosoCredentials | None:
        """What the service would use: ``VIRTUOSO_API_TOKEN`` (and ``VIRTUOSO_ORG_ID``) when set,
        else the ``virtuoso-api-key`` secret of this environment; ``None`` when there is neither.
        The token is ``api_key``; the object's ``repr`` masks it."""
        settings = self.settings
        if settings.virtuoso_api_token is not None:
            token = settings.virtuoso_api_token.get_secret_value()
            return VirtuosoCredentials(token, settings.virtuoso_org_id, "environment")
        service = await self._open()
        stored = await service.find(service.ref(SecretType.VIRTUOSO_API_KEY))
        if stored is None:
            return None
        credentials = VirtuosoCredentials.of(stored)
        if settings.virtuoso_org_id is not None:  # the variable wins here too
            credentials = VirtuosoCredentials(
                credentials.api_key, settings.virtuoso_org_id, credentials.source
            )
        return credentials

    # -- any secret ------------------------------------------------------------------------------

    async def create_secret(
        self, secret_type: SecretType | str, value: Mapping[str, Any], *, name: str | None = None
    ) -> JsonDict:
        """A new secret with ``value`` as version 1; :class:`~virtuoso_api.errors.Conflict` if it
        exists (rotate it instead). ``name`` for types kept per thing (webhook signing keys)."""
        service = await self._open()
        stored = await service.create(service.ref(secret_type, name), dict(value))
        return _described(stored)

    async def get_secret(
        self, secret_type: SecretType | str, *, name: str | None = None, version: int | None = None
    ) -> JsonDict | None:
        """The value's fields, secrets revealed (newest version unless ``version``); ``None`` if
        there is no such secret."""
        service = await self._open()
        ref = service.ref(secret_type, name)
        stored = await service.find(ref) if version is None else await service.get(ref, version=version)
        return None if stored is None else stored.value.plain()

    async def rotate_secret(
        self,
        secret_type: SecretType | str,
        value: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
    ) -> JsonDict:
        """A new version (``value``, or a generated one for key types), then older versions retired:
        disabled once ``SECRET_ROTATION_GRACE_SECONDS`` passed, destroyed past the
        ``SECRET_VERSIONS_KEPT`` newest. :class:`~virtuoso_api.errors.NotFound` if there is no secret."""
        service = await self._open()
        rotation = await service.rotate(
            service.ref(secret_type, name), None if value is None else dict(value)
        )
        return _described(rotation.stored) | {
            "disabled_versions": rotation.retired.disable,
            "destroyed_versions": rotation.retired.destroy,
        }

    async def list_versions(
        self, secret_type: SecretType | str, *, name: str | None = None
    ) -> list[JsonDict]:
        """Every version, newest first: ``{version, state, created_at}``."""
        service = await self._open()
        return [
            {
                "version": info.number,
                "state": info.state.value,
                "created_at": format_timestamp(info.created_at),
            }
            for info in await service.versions(service.ref(secret_type, name))
        ]

    async def delete_secret(self, secret_type: SecretType | str, *, name: str | None = None) -> bool:
        """Delete the secret and all its versions; ``False`` if there was none."""
        service = await self._open()
        return await service.delete(service.ref(secret_type, name))


def _described(stored: StoredSecret) -> JsonDict:
    return {"secret": stored.ref.secret_id, "type": stored.ref.type.value, "version": stored.version}


_process_client = OnePerProcess(SecretManagerClient)


def get_secret_manager_client() -> SecretManagerClient:
    """The process's client, built on first call from the environment (``Settings``)."""
    return _process_client.get()


async def close_secret_manager_client() -> None:
    """Close the process's client (if any) and forget it; the next getter call builds a new one."""
    await _process_client.close()
