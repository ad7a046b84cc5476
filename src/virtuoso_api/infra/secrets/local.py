"""The secrets port in one encrypted file, ``DATA_DIR/secrets.json``: the default, for one machine.

Each version's data is sealed with AES-256-GCM (``cryptography``'s AEAD) under a fresh 96-bit nonce,
with the secret id and version number as associated data, so a sealed value moved to another secret
or version fails to open instead of reading as the wrong secret. Names, version numbers, states and
times are kept in the clear (Secret Manager shows them to anyone who may list secrets, too).

The file also holds a sealed check value, opened when the store is opened: a wrong key is refused
there, with one line naming the file and the key's source, never later as garbage or a
half-written file. Writes take an exclusive ``flock`` on ``secrets.json.lock`` (the CLI and a running
server share the file), re-read the file under it, and replace it whole (written 0600, fsynced, then
renamed), so a crash leaves the old file or the new one, never a mix. Reads need no lock. File work
runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from virtuoso_api.infra.secrets.local_key import KeySource
from virtuoso_api.infra.secrets.port import (
    LATEST,
    AccessedVersion,
    SecretAlreadyExists,
    SecretNotFound,
    SecretUnreadable,
    SecretVersionUnavailable,
    VersionInfo,
    VersionRef,
    VersionState,
    check_payload,
    check_secret_id,
    check_version,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.files import PRIVATE_FILE_MODE, private_dir, private_file
from virtuoso_api.kit.timestamps import format_timestamp, parse_timestamp

T = TypeVar("T")

FORMAT: Final = "virtuoso-api-secrets/1"
_CHECK_PLAINTEXT: Final = b"virtuoso-api secrets key check"
_CHECK_AAD: Final = b"key-check"
_NONCE_BYTES: Final = 12

File = dict[str, Any]


class LocalSecretStore:
    """:class:`~virtuoso_api.infra.secrets.port.SecretStore` in an encrypted JSON file."""

    backend = "local"

    def __init__(self, path: Path, *, key: KeySource, clock: Clock) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._key_source = key
        self._clock = clock
        self._key: bytes | None = None

    def open(self) -> None:
        """Check the key against an existing file now, so a wrong one stops start-up in one line."""
        data = self._load()
        if data is not None:
            self._cipher_for(data)

    # -- the port ----------------------------------------------------------------------------------

    async def create(self, secret_id: str, *, labels: dict[str, str]) -> None:
        check_secret_id(secret_id)

        def change(data: File) -> None:
            if secret_id in data["secrets"]:
                raise SecretAlreadyExists(f"secret {secret_id} already exists")
            data["secrets"][secret_id] = {
                "created_at": format_timestamp(self._clock.now()),
                "labels": dict(labels),
                "versions": [],
            }

        await self._write(change)

    async def add_version(self, secret_id: str, data: bytes) -> VersionInfo:
        check_secret_id(secret_id)
        check_payload(data)

        def change(file: File) -> VersionInfo:
            secret = _secret(file, secret_id)
            number = max((v["number"] for v in secret["versions"]), default=0) + 1
            created = self._clock.now()
            sealed = self._seal(file, data, _aad(secret_id, number))
            secret["versions"].append(
                {
                    "number": number,
                    "state": "enabled",
                    "created_at": format_timestamp(created),
                    "data": sealed,
                }
            )
            return VersionInfo(number, VersionState.ENABLED, created)

        return await self._write(change)

    async def access(self, secret_id: str, version: VersionRef = LATEST) -> AccessedVersion:
        check_secret_id(secret_id)
        check_version(version)

        def read() -> AccessedVersion:
            file = self._load_existing(secret_id)
            found = _version(file, secret_id, version)
            if found["state"] != "enabled":
                raise SecretVersionUnavailable(
                    f"version {found['number']} of secret {secret_id} is {found['state']}"
                )
            plain = self._open_sealed(file, found["data"], _aad(secret_id, found["number"]))
            return AccessedVersion(found["number"], plain)

        return await asyncio.to_thread(read)

    async def versions(self, secret_id: str) -> list[VersionInfo]:
        check_secret_id(secret_id)

        def read() -> list[VersionInfo]:
            secret = _secret(self._load_existing(secret_id), secret_id)
            infos = [
                VersionInfo(v["number"], VersionState(v["state"]), parse_timestamp(v["created_at"]))
                for v in secret["versions"]
            ]
            return sorted(infos, key=lambda info: info.number, reverse=True)

        return await asyncio.to_thread(read)

    async def disable(self, secret_id: str, number: int) -> None:
        await self._set_state(secret_id, number, VersionState.DISABLED)

    async def enable(self, secret_id: str, number: int) -> None:
        await self._set_state(secret_id, number, VersionState.ENABLED)

    async def destroy(self, secret_id: str, number: int) -> None:
        await self._set_state(secret_id, number, VersionState.DESTROYED)

    async def delete(self, secret_id: str) -> None:
        check_secret_id(secret_id)

        def change(file: File) -> None:
            _secret(file, secret_id)
            del file["secrets"][secret_id]

        await self._write(change)

    async def close(self) -> None:
        return None

    # -- states ------------------------------------------------------------------------------------

    async def _set_state(self, secret_id: str, number: int, state: VersionState) -> None:
        check_secret_id(secret_id)
        check_version(number)

        def change(file: File) -> None:
            found = _version(file, secret_id, number)
            if found["state"] == state.value:
                return
            if found["state"] == VersionState.DESTROYED.value:
                raise SecretVersionUnavailable(f"version {number} of secret {secret_id} is destroyed")
            found["state"] = state.value
            if state is VersionState.DESTROYED:
                found.pop("data", None)

        await self._write(change)

    # -- the file ----------------------------------------------------------------------------------

    async def _write(self, change: Callable[[File], T]) -> T:
        def locked() -> T:
            with self._exclusive():
                file = self._load()
                if file is None:
                    file = self._new_file()
                result = change(file)
                self._save(file)
                return result

        return await asyncio.to_thread(locked)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        private_dir(self.path.parent)
        descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _load(self) -> File | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            raise SecretUnreadable(f"{self.path} is not a secrets file (its JSON is broken)") from None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("secrets"), dict)
        ):
            raise SecretUnreadable(f"{self.path} is not a secrets file of this version ({FORMAT})")
        return data

    def _load_existing(self, secret_id: str) -> File:
        data = self._load()
        if data is None:
            raise SecretNotFound(f"secret {secret_id} does not exist")
        return data

    def _new_file(self) -> File:
        cipher = AESGCM(self._key_source.read_or_create())
        nonce = os.urandom(_NONCE_BYTES)
        check = nonce + cipher.encrypt(nonce, _CHECK_PLAINTEXT, _CHECK_AAD)
        return {"format": FORMAT, "cipher": "AES-256-GCM", "check": _b64(check), "secrets": {}}

    def _save(self, data: File) -> None:
        private_dir(self.path.parent)
        # Under the lock no one else is writing: a temporary file left here is a killed writer's.
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        try:
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
            os.write(descriptor, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)
        private_file(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)

    # -- sealing -----------------------------------------------------------------------------------

    def _cipher_for(self, file: File) -> AESGCM:
        if self._key is None:
            key = self._key_source.read()
            if key is None:
                raise SecretUnreadable(
                    f"{self.path} holds secrets but its key is missing: restore {self._key_source.path} "
                    "or set SECRETS_ENCRYPTION_KEY to the key it was made with"
                )
            try:
                check = base64.b64decode(file["check"])
                AESGCM(key).decrypt(check[:_NONCE_BYTES], check[_NONCE_BYTES:], _CHECK_AAD)
            except (InvalidTag, KeyError, ValueError, TypeError):
                raise SecretUnreadable(
                    f"{self.path} was encrypted with another key than {self._key_source.described}: "
                    "set SECRETS_ENCRYPTION_KEY to the key it was made with"
                ) from None
            self._key = key
        return AESGCM(self._key)

    def _seal(self, file: File, plain: bytes, aad: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        return _b64(nonce + self._cipher_for(file).encrypt(nonce, plain, aad))

    def _open_sealed(self, file: File, sealed: str, aad: bytes) -> bytes:
        cipher = self._cipher_for(file)
        try:
            raw = base64.b64decode(sealed)
            return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise SecretUnreadable(
                f"a version in {self.path} failed its integrity check: the file was altered"
            ) from None


def _aad(secret_id: str, number: int) -> bytes:
    return f"{secret_id}/{number}".encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _secret(file: File, secret_id: str) -> dict[str, Any]:
    secret: dict[str, Any] | None = file["secrets"].get(secret_id)
    if secret is None:
        raise SecretNotFound(f"secret {secret_id} does not exist")
    return secret


def _version(file: File, secret_id: str, version: VersionRef) -> dict[str, Any]:
    versions: list[dict[str, Any]] = _secret(file, secret_id)["versions"]
    if not versions:
        raise SecretNotFound(f"secret {secret_id} has no versions")
    if version == LATEST:
        return max(versions, key=lambda v: int(v["number"]))
    for candidate in versions:
        if candidate["number"] == version:
            return candidate
    raise SecretNotFound(f"version {version} of secret {secret_id} does not exist")
