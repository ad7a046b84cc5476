"""The local store's key: 32 bytes for AES-256-GCM, from ``SECRETS_ENCRYPTION_KEY`` or a key file.

The key file (``DATA_DIR/secrets.key``) is made, mode 0600, the first time a secret is written, and
only then: reading an empty store needs no key. It is never made beside a secrets file that already
exists, since a new key could not read what that file holds; that is a start-up error naming what to
restore. Keeping the key beside the data protects the secrets from anyone who gets a copy of the
secrets file alone (a backup, a support bundle); on a shared machine, set ``SECRETS_ENCRYPTION_KEY``
from somewhere else.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from virtuoso_api.config import decode_encryption_key
from virtuoso_api.errors import Misconfigured
from virtuoso_api.kit.files import PRIVATE_FILE_MODE, private_dir, private_file
from virtuoso_api.kit.redact import register_secret

SETTING = "SECRETS_ENCRYPTION_KEY"


@dataclass(frozen=True)
class KeySource:
    """Where the key comes from: the setting (its text) or the key file at ``path``."""

    path: Path
    setting: str | None = None

    @property
    def described(self) -> str:
        return SETTING if self.setting is not None else str(self.path)

    def read(self) -> bytes | None:
        """The key, or ``None`` when there is no setting and no key file yet."""
        if self.setting is not None:
            return decode_encryption_key(self.setting)  # checked by Settings already
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise Misconfigured(f"the secrets key file {self.path} cannot be read: {exc}") from None
        private_file(self.path)  # tighten one an older version or an operator left readable
        register_secret(text.strip())
        try:
            return decode_encryption_key(text)
        except ValueError as exc:
            raise Misconfigured(f"the secrets key file {self.path} {exc}; set {SETTING} instead") from None

    def read_or_create(self) -> bytes:
        """The key, making the key file (0600) when there is none. Called under the store's lock."""
        key = self.read()
        if key is not None:
            return key
        key = os.urandom(32)
        text = base64.urlsafe_b64encode(key).decode("ascii")
        register_secret(text)
        private_dir(self.path.parent)
        # O_EXCL: never overwrite a key someone else just made; the mode is set before a byte is written.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        try:
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
            os.write(descriptor, (text + "\n").encode("ascii"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return key
