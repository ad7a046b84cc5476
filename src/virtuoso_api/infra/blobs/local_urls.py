"""Signed URLs for the local blobs, served by the service itself at ``GET|PUT /files/{bucket}/{name}``.

A link in a report must work the same locally and on Cloud Storage: handed to anyone, it opens one
blob until it expires, and nothing else. Locally the service checks it: the URL carries its expiry
(Unix seconds), the version of the key that signed it, and an HMAC-SHA256 over the method, bucket,
name, expiry, key version and (for an upload) content type. The key is the ``blob-signing-key``
secret of the secrets store (read through :class:`KeyRing`, rotatable: a URL names its key version,
so links made before a rotation keep working until they expire or the version is disabled), so every
process sharing the data folder (the server, the CLI, the facade) makes links the server accepts.

Written by hand: it is a few lines of the standard library's ``hmac`` (compared in constant time),
and no library signs URLs in this shape; Cloud Storage's V4 scheme needs an RSA key, which the local
mode has no reason to hold.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, Protocol
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from virtuoso_api.errors import Forbidden
from virtuoso_api.infra.blobs.port import DEFAULT_CONTENT_TYPE, Method, check_lifetime
from virtuoso_api.kit.clock import Clock

FILES_PATH: Final = "/files"
_KDF_INFO: Final = b"virtuoso-api blob urls v1"


class KeyRing(Protocol):
    """The signing key's versions, from the secrets store."""

    async def current(self) -> tuple[int, bytes]:
        """The newest version and its key material (made on first use)."""

    async def version(self, number: int) -> bytes | None:
        """That version's key material; ``None`` if it cannot be read (disabled, destroyed)."""


def _derive(material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(material)


def _message(
    method: str, bucket: str, name: str, expires: int, version: int, content_type: str | None
) -> bytes:
    # An upload is bound to its content type (as Cloud Storage binds a signed Content-Type); a read
    # to none.
    signed_type = (content_type or DEFAULT_CONTENT_TYPE) if method == "PUT" else ""
    return "\n".join([method, bucket, name, str(expires), str(version), signed_type]).encode("utf-8")


class LocalUrlSigner:
    def __init__(
        self, keys: KeyRing, *, base_url: str, clock: Clock, older_ttl: timedelta = timedelta(minutes=5)
    ) -> None:
        self._keys = keys
        self._base = base_url.rstrip("/")
        self._clock = clock
        self._derived: dict[int, bytes] = {}  # a version's material never changes: its key is kept
        # Older versions are asked again after ``older_ttl``: one disabled after a rotation stops
        # opening links within that time, without a secrets read per link opened.
        self._older_ttl = older_ttl
        self._checked_at: dict[int, datetime] = {}

    def path_of(self, bucket: str, name: str) -> str:
        return f"{FILES_PATH}/{bucket}/{quote(name, safe='/')}"

    async def sign(
        self,
        bucket: str,
        name: str,
        *,
        expires_in: timedelta,
        method: Method = "GET",
        content_type: str | None = None,
    ) -> str:
        check_lifetime(expires_in)
        version, material = await self._keys.current()
        key = self._derived.setdefault(version, _derive(material))
        expires = int((self._clock.now() + expires_in).timestamp())
        mac = hmac.new(key, _message(method, bucket, name, expires, version, content_type), hashlib.sha256)
        query = {"expires": str(expires), "kv": str(version), "sig": _b64(mac.digest())}
        return f"{self._base}{self.path_of(bucket, name)}?{urlencode(query)}"

    async def verify(
        self,
        bucket: str,
        name: str,
        query: Mapping[str, str],
        *,
        method: Method,
        content_type: str | None = None,
    ) -> None:
        """Raise :class:`Forbidden` unless ``query`` is a valid, unexpired signature for this request.
        The reason never says which part was wrong beyond expired/invalid."""
        try:
            expires, version = int(query["expires"]), int(query["kv"])
            given = base64.urlsafe_b64decode(query["sig"] + "=" * (-len(query["sig"]) % 4))
        except (KeyError, ValueError):
            raise Forbidden("this link is not signed: ask for a new one") from None
        if version < 1:
            raise Forbidden("this link's signature is not valid")
        current, material = await self._keys.current()
        if version == current:
            key = self._derived.setdefault(version, _derive(material))
        else:
            key = await self._older(version, current)
        message = _message(method, bucket, name, expires, version, content_type)
        expected = hmac.new(key, message, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, given):
            raise Forbidden("this link's signature is not valid")
        if self._clock.now().timestamp() >= expires:
            raise Forbidden("this link has expired: ask for a new one")

    async def _older(self, version: int, current: int) -> bytes:
        # Only a version that exists is looked up: a forged link does not cost a secrets read.
        if version > current:
            raise Forbidden("this link's signature is not valid")
        now = self._clock.now()
        checked = self._checked_at.get(version)
        if checked is None or now - checked >= self._older_ttl:
            material = await self._keys.version(version)
            if material is None:
                self._derived.pop(version, None)
                self._checked_at.pop(version, None)
                raise Forbidden("this link's signature is not valid")
            self._derived[version] = _derive(material)
            self._checked_at[version] = now
        return self._derived[version]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
