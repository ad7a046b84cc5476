"""The local signed URLs' key: the ``blob-signing-key`` secret, through the secrets service.

Every process sharing the data folder (and, with Secret Manager, every instance) reads the same
secret, so a link made by the CLI or the facade opens in the server. Made on first use; rotated like
any secret (``virtuoso-api secrets rotate blob-signing-key --generate``): a link names the version
that signed it, and older versions keep verifying until the rotation's grace period disables them.
"""

from __future__ import annotations

from virtuoso_api.infra.secrets import SecretNotFound, SecretVersionUnavailable
from virtuoso_api.secrets import SecretsService, SecretType, SigningKey


class BlobSigningKeys:
    """:class:`~virtuoso_api.infra.blobs.KeyRing` over the secrets service."""

    def __init__(self, secrets: SecretsService) -> None:
        self._secrets = secrets
        self.ref = secrets.ref(SecretType.BLOB_SIGNING_KEY)

    async def current(self) -> tuple[int, bytes]:
        stored = await self._secrets.ensure(self.ref)
        return stored.version, _material(stored.value)

    async def version(self, number: int) -> bytes | None:
        try:
            stored = await self._secrets.get(self.ref, version=number)
        except (SecretNotFound, SecretVersionUnavailable):
            return None
        return _material(stored.value)


def _material(value: object) -> bytes:
    assert isinstance(value, SigningKey)
    return value.key.get_secret_value().encode()
