"""The secrets capability: named secrets, each a numbered list of immutable versions.

Domain code (the secrets domain: Virtuoso credentials, signing keys) stores everything through this
port; the local adapter keeps an encrypted file in ``DATA_DIR``, the Secret Manager adapter
(``USE_SECRET_MANAGER``) Google's service. Both pass one contract suite
(``tests/infra/secrets/test_contract.py``).

Semantics both adapters keep (Secret Manager's own):

- A secret id is 1 to 255 letters, digits, ``-`` and ``_``; a version's data is 1 byte to 64 KiB.
- Versions are numbered 1, 2, 3... in the order they were added; a number is never reused.
- A version is enabled, disabled (can be enabled again) or destroyed (its data is gone for good).
  Only an enabled version can be read.
- ``latest`` is the most recently added version, whatever its state: when that one is disabled,
  reading ``latest`` fails (it does not fall back to an older version). Secret Manager documents it so;
  drongo, the emulator the tests use, answers the newest *enabled* version instead, and the contract
  test says so rather than relying on either.
- Disabling a disabled version, enabling an enabled one and destroying a destroyed one change nothing
  and succeed; disabling or enabling a destroyed one fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, Literal, Protocol

from virtuoso_api.errors import Conflict, Forbidden, InvalidInput, Misconfigured, NotFound

LATEST: Final = "latest"
VersionRef = int | Literal["latest"]

#: Secret Manager's limit on one version's data.
MAX_PAYLOAD_BYTES: Final = 64 * 1024

_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


class VersionState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    DESTROYED = "destroyed"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    number: int
    state: VersionState
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccessedVersion:
    """One version's data. ``repr`` leaves the data out: it is the secret."""

    number: int
    data: bytes = field(repr=False)


class SecretNotFound(NotFound):
    """The secret, or the version asked for, does not exist."""


class SecretAlreadyExists(Conflict):
    pass


class SecretVersionUnavailable(Conflict):
    """The version exists but cannot be read or changed in its state (disabled, destroyed)."""


class SecretAccessDenied(Forbidden):
    """The store refused our identity (Secret Manager: the service account lacks a role)."""


class SecretUnreadable(Misconfigured):
    """What the store holds cannot be read as it should be: the wrong key, or an altered file."""


class SecretStore(Protocol):
    """What the secrets domain needs from a store. Every method raises the errors above, and
    :class:`~virtuoso_api.errors.BackendUnavailable` when a remote store does not answer in time."""

    @property
    def backend(self) -> str:
        """``local`` or ``secret_manager``."""
        ...

    async def create(self, secret_id: str, *, labels: dict[str, str]) -> None:
        """A new secret without versions; :class:`SecretAlreadyExists` if the id is taken."""
        ...

    async def add_version(self, secret_id: str, data: bytes) -> VersionInfo:
        """Append a version (enabled); :class:`SecretNotFound` if the secret does not exist."""
        ...

    async def access(self, secret_id: str, version: VersionRef = LATEST) -> AccessedVersion: ...

    async def versions(self, secret_id: str) -> list[VersionInfo]:
        """Every version, destroyed ones included, newest first."""
        ...

    async def disable(self, secret_id: str, number: int) -> None: ...

    async def enable(self, secret_id: str, number: int) -> None: ...

    async def destroy(self, secret_id: str, number: int) -> None: ...

    async def delete(self, secret_id: str) -> None:
        """The secret and all its versions; :class:`SecretNotFound` if it does not exist."""
        ...

    async def close(self) -> None: ...


def check_secret_id(secret_id: str) -> str:
    if not _SECRET_ID.fullmatch(secret_id):
        raise InvalidInput("secret", f"{secret_id!r:.80} is not a secret id (1 to 255 of A-Z a-z 0-9 - _)")
    return secret_id


def check_payload(data: bytes) -> bytes:
    if not 1 <= len(data) <= MAX_PAYLOAD_BYTES:
        raise InvalidInput("value", f"must be 1 byte to 64 KiB once encoded, got {len(data)} bytes")
    return data


def check_version(version: VersionRef) -> VersionRef:
    if version != LATEST and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise InvalidInput("version", f"must be a version number from 1 or 'latest', got {version!r:.40}")
    return version
