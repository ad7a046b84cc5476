"""Webhook signing secrets: made, sealed at rest, opened to sign.

Signing needs the secret itself (an HMAC key), so unlike API keys it cannot be stored as a hash: it is
encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from ``cryptography``) under ``WEBHOOK_SECRET_KEY``,
or under a key made once in the data folder (``webhook-secret.key``, mode 0600) when that is unset.
Every opened secret is registered with the redaction registry, so it never reaches a log or an answer.

The Secret Manager capability (``infra/secrets/``, being built) is where this key may live later.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.kit.files import private_dir, private_file
from virtuoso_api.kit.redact import register_secret

#: As the Standard Webhooks specification writes secrets: a prefix, then base64 of 24 to 64 bytes.
SECRET_PREFIX: Final = "whsec_"
_SECRET_BYTES: Final = 32
_KEY_FILE: Final = "webhook-secret.key"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


class SecretSeal:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise Misconfigured(
                "WEBHOOK_SECRET_KEY must be a Fernet key: 32 url-safe base64-encoded bytes"
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretSeal:
        if settings.webhook_secret_key is not None:
            return cls(settings.webhook_secret_key.get_secret_value().encode())
        path = settings.data_dir / _KEY_FILE
        if not path.exists():
            private_dir(settings.data_dir)
            private_file(path).write_bytes(Fernet.generate_key())
        return cls(Path(path).read_bytes().strip())

    def seal(self, secret: str) -> str:
        register_secret(secret)
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            secret = self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise Misconfigured(
                "a webhook signing secret cannot be decrypted: every instance must be given the same "
                "WEBHOOK_SECRET_KEY (or share the data folder's webhook-secret.key)"
            ) from exc
        register_secret(secret)
        return secret
