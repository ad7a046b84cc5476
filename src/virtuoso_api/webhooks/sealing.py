"""Webhook signing secrets: made, sealed at rest, opened to sign.

Signing needs the secret itself (an HMAC key), so unlike API keys it cannot be stored as a hash. Each
webhook's ``whsec_`` secret is kept in its document, sealed with AES-256-GCM (``cryptography``) under
one key that lives in the secrets store: the ``webhook-sealing-key`` secret (envelope encryption).
Secret Manager then holds one secret for every webhook, read once per ``SECRET_CACHE_TTL_SECONDS``, not
one secret per webhook (a version to pay for and an access per delivery or per cache entry each).

A sealed secret names the version of the key it was sealed under (``v1:<version>:<nonce+ciphertext>``)
and is bound to its webhook (the webhook's id is the associated data, so a sealed secret copied onto
another webhook does not open). Rotating the key (``virtuoso-api secrets rotate webhook-sealing-key
--generate``) seals new secrets under the new version at once; older ones still open with the version
they name, and :mod:`resealing` re-seals them under the new one long before the rotation's grace
period disables the old version.

Before the key lived in the secrets store, secrets were sealed with Fernet under ``WEBHOOK_SECRET_KEY``
or ``DATA_DIR/webhook-secret.key``. That key is now read only to open those secrets, which the
start-up sweep re-seals (:mod:`resealing`). Every opened secret is registered with the redaction
registry, so it never reaches a log or an answer.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.secrets import SecretNotFound, SecretVersionUnavailable
from virtuoso_api.kit.redact import register_secret
from virtuoso_api.secrets import SecretRef, SecretsService, SecretType, SigningKey

logger = logging.getLogger(__name__)

#: As the Standard Webhooks specification writes secrets: a prefix, then base64 of 24 to 64 bytes.
SECRET_PREFIX: Final = "whsec_"
#: Secrets sealed under the secrets store's key start with this; anything else is a legacy Fernet token.
SEALED_PREFIX: Final = "v1:"
LEGACY_KEY_FILE: Final = "webhook-secret.key"
_SECRET_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_KDF_INFO: Final = b"virtuoso-api webhook signing secrets v1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


class SealingError(Misconfigured):
    """A sealed secret that cannot be opened: its key (or key version) is not available here."""


def sealed_under(sealed: str) -> int | None:
    """The version of the sealing key ``sealed`` names; ``None`` for a legacy (Fernet) secret."""
    if not sealed.startswith(SEALED_PREFIX):
        return None
    version = sealed.split(":", 2)[1]
    return int(version) if version.isdigit() else None


class SecretSeal:
    def __init__(self, secrets_service: SecretsService, *, legacy: Fernet | None = None) -> None:
        self._secrets = secrets_service
        self._legacy = legacy
        self.ref: SecretRef = secrets_service.ref(SecretType.WEBHOOK_SEALING_KEY)
        self._ciphers: dict[int, AESGCM] = {}  # versions never change: each one's cipher is kept

    @classmethod
    def from_settings(cls, secrets_service: SecretsService, settings: Settings) -> SecretSeal:
        return cls(secrets_service, legacy=legacy_key(settings))

    async def current_version_if_any(self) -> int | None:
        """The sealing key's newest version (through the cache); ``None`` while there is no key."""
        stored = await self._secrets.find(self.ref)
        return None if stored is None else stored.version

    async def current_version(self) -> int:
        """The sealing key's newest version, made now if there is none yet (through the cache)."""
        stored = await self._secrets.ensure(self.ref)
        self._cipher_of(stored.version, stored.value)
        return stored.version

    async def seal(self, secret: str, *, webhook_id: str) -> str:
        register_secret(secret)
        version = await self.current_version()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[version].encrypt(nonce, secret.encode(), webhook_id.encode())
        return f"{SEALED_PREFIX}{version}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    async def open(self, sealed: str, *, webhook_id: str) -> str:
        version = sealed_under(sealed)
        if version is None:
            secret = self._open_legacy(sealed, webhook_id)
        else:
            cipher = await self._cipher(version, webhook_id)
            try:
                raw = base64.urlsafe_b64decode(sealed.split(":", 2)[2].encode())
                secret = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], webhook_id.encode()).decode()
            except (InvalidTag, ValueError, binascii.Error) as exc:
                raise SealingError(
                    f"the signing secret of webhook {webhook_id} does not open with version {version} of "
                    f"{self.ref}: every instance must read the same secrets store (USE_SECRET_MANAGER)"
                ) from exc
        register_secret(secret)
        return secret

    async def _cipher(self, version: int, webhook_id: str) -> AESGCM:
        if version not in self._ciphers:
            try:
                stored = await self._secrets.get(self.ref, version=version)
            except (SecretNotFound, SecretVersionUnavailable) as exc:
                raise SealingError(
                    f"the signing secret of webhook {webhook_id} is sealed under version {version} of "
                    f"{self.ref}, which cannot be read ({exc.message}): enable that version again, and "
                    "the service re-seals the secret under the newest one; or rotate the webhook's secret"
                ) from exc
            self._cipher_of(version, stored.value)
        return self._ciphers[version]

    def _cipher_of(self, version: int, value: object) -> None:
        if version not in self._ciphers:
            assert isinstance(value, SigningKey)
            material = value.key.get_secret_value().encode()
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(material)
            self._ciphers[version] = AESGCM(key)

    def _open_legacy(self, sealed: str, webhook_id: str) -> str:
        if self._legacy is None:
            raise SealingError(
                f"the signing secret of webhook {webhook_id} was sealed under WEBHOOK_SECRET_KEY (or "
                f"DATA_DIR/{LEGACY_KEY_FILE}) before {self.ref} held the key, and neither is here: "
                "set WEBHOOK_SECRET_KEY to that key once (the service re-seals it), or rotate the "
                "webhook's secret"
            )
        try:
            return self._legacy.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SealingError(
                f"the signing secret of webhook {webhook_id} does not open with WEBHOOK_SECRET_KEY (or "
                f"DATA_DIR/{LEGACY_KEY_FILE}): it was sealed under another key"
            ) from exc


def legacy_source(settings: Settings) -> str | None:
    """Where the legacy key comes from, as a start-up message names it; ``None`` without one."""
    if settings.webhook_secret_key is not None:
        return "WEBHOOK_SECRET_KEY"
    return f"DATA_DIR/{LEGACY_KEY_FILE}" if (settings.data_dir / LEGACY_KEY_FILE).exists() else None


def legacy_key(settings: Settings) -> Fernet | None:
    """The key secrets were sealed under before the secrets store held one: ``WEBHOOK_SECRET_KEY``,
    else the data folder's key file if an older version made one; never made any more."""
    if settings.webhook_secret_key is not None:
        raw = settings.webhook_secret_key.get_secret_value().encode()
    else:
        path: Path = settings.data_dir / LEGACY_KEY_FILE
        if not path.exists():
            return None
        raw = path.read_bytes().strip()
    try:
        return Fernet(raw)
    except ValueError as exc:
        raise Misconfigured(
            "WEBHOOK_SECRET_KEY must be a Fernet key: 32 url-safe base64-encoded bytes"
        ) from exc
