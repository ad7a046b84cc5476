"""The blobs capability: named byte strings in buckets, with a content type and metadata.

Domain code (reports, command-log exports, published docs) stores everything through this port; the
local adapter keeps files under ``DATA_DIR/blobs``, the Cloud Storage adapter (``USE_CLOUD_STORAGE``)
Google's buckets. Both pass one contract suite (``tests/infra/blobs/test_contract.py``).

Semantics both adapters keep (Cloud Storage's own, where the local folder can follow them):

- A bucket name is Cloud Storage's: 3 to 63 of ``a-z 0-9 - _ .``, starting and ending with a letter or
  digit. A blob name is 1 to 1024 bytes of UTF-8 without control characters, and no ``/``-separated
  part of it is ``.`` or ``..`` (a browser would resolve them in a link).
- A put replaces the whole blob (content type and metadata too); reads never see half of one.
- Listing is in name order, by prefix, a page at a time; the page token is opaque.
- Signed URLs grant one method (GET to read, PUT to upload) on one blob until they expire; anyone
  holding the URL may use it, so they are handed only to the blob's owner.
- Lifecycle rules act on a blob's age: move it to a colder storage class, or delete it.
"""

from __future__ import annotations

import base64
import builtins
import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Literal, Protocol

from virtuoso_api.errors import InvalidInput, NotFound

#: The most metadata a blob carries (Cloud Storage's limit on custom metadata is 8 KiB).
MAX_METADATA_BYTES: Final = 8 * 1024
#: The longest a signed URL may live (Cloud Storage's V4 limit: 7 days).
MAX_SIGNED_URL_LIFETIME: Final = timedelta(days=7)
DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"

_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Method = Literal["GET", "PUT"]
Body = bytes | AsyncIterable[bytes]


class BlobNotFound(NotFound):
    def __init__(self, bucket: str, name: str) -> None:
        super().__init__(f"no blob {name!r:.200} in bucket {bucket}")
        self.bucket = bucket
        self.name = name


class LifecycleAction(StrEnum):
    DELETE = "delete"
    SET_STORAGE_CLASS = "set_storage_class"


@dataclass(frozen=True, slots=True)
class LifecycleRule:
    """Act on blobs older than ``age_days`` (and, if given, whose name starts with ``prefix``)."""

    action: LifecycleAction
    age_days: int
    storage_class: str | None = None
    prefix: str | None = None


@dataclass(frozen=True, slots=True)
class BlobInfo:
    bucket: str
    name: str
    size: int
    content_type: str
    metadata: Mapping[str, str]
    updated: datetime
    md5_hex: str
    storage_class: str = "STANDARD"


@dataclass(frozen=True, slots=True)
class Blob:
    info: BlobInfo
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class BlobPage:
    blobs: list[BlobInfo]
    next_token: str | None


class BlobStore(Protocol):
    """One backend's buckets. Every method raises :class:`BlobNotFound` for a missing blob where it
    says so, :class:`~virtuoso_api.errors.InvalidInput` for a bad name, and
    :class:`~virtuoso_api.errors.BackendUnavailable` when the backend does not answer."""

    backend: str

    async def ensure_bucket(self, bucket: str) -> None:
        """Make the bucket if it does not exist (an existing one is left as it is)."""

    async def put(
        self,
        bucket: str,
        name: str,
        body: Body,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobInfo: ...

    async def get(self, bucket: str, name: str) -> Blob:
        """The blob's bytes and what is known of it; :class:`BlobNotFound` if there is none."""

    async def stat(self, bucket: str, name: str) -> BlobInfo:
        """What is known of the blob, without its bytes; :class:`BlobNotFound` if there is none."""

    async def list(
        self, bucket: str, prefix: str = "", *, limit: int = 100, page_token: str | None = None
    ) -> BlobPage: ...

    async def delete(self, bucket: str, name: str) -> bool:
        """``True`` if the blob existed (it is gone either way)."""

    async def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> BlobInfo:
        """The copy's info; :class:`BlobNotFound` if the source is missing."""

    async def signed_url(
        self,
        bucket: str,
        name: str,
        *,
        expires_in: timedelta,
        method: Method = "GET",
        content_type: str | None = None,
    ) -> str:
        """An absolute URL that allows ``method`` on the blob until ``expires_in`` from now."""

    async def set_lifecycle(self, bucket: str, rules: builtins.list[LifecycleRule]) -> None:
        """Replace the bucket's lifecycle rules (an empty list removes them)."""

    async def lifecycle(self, bucket: str) -> builtins.list[LifecycleRule]: ...

    async def close(self) -> None: ...


def check_bucket(bucket: str) -> str:
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise InvalidInput(
            "bucket", "must be 3 to 63 of a-z 0-9 - _ . starting and ending with a letter or digit"
        )
    return bucket


def check_name(name: str, *, field_name: str = "name") -> str:
    if not name or len(name.encode("utf-8", "surrogatepass")) > 1024:
        raise InvalidInput(field_name, "must be 1 to 1024 bytes")
    # No part may be . or ..: a browser opening a link resolves them (x/../y becomes y), so such a
    # blob could never be reached by its URL, and a path built from it could leave its folder.
    if any(part in (".", "..") for part in name.split("/")) or _CONTROL.search(name):
        raise InvalidInput(field_name, "must have no . or .. part and no control characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field_name, "must be valid UTF-8 text") from None
    return name


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    checked = dict(metadata or {})
    size = 0
    for key, value in checked.items():
        if not isinstance(key, str) or not isinstance(value, str) or not key:
            raise InvalidInput("metadata", "keys and values must be text (keys not empty)")
        if _CONTROL.search(key) or _CONTROL.search(value):
            raise InvalidInput("metadata", "must not hold control characters")
        size += len(key.encode()) + len(value.encode())
    if size > MAX_METADATA_BYTES:
        raise InvalidInput("metadata", f"must be at most {MAX_METADATA_BYTES} bytes in all")
    return checked


def check_lifetime(expires_in: timedelta) -> timedelta:
    if not timedelta(seconds=1) <= expires_in <= MAX_SIGNED_URL_LIFETIME:
        raise InvalidInput("expires_in", "must be between 1 second and 7 days")
    return expires_in


def check_limit(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit", "must be between 1 and 1000")
    return limit


async def read_body(body: Body) -> bytes:
    """A streamed body gathered (reports and exports are small; a large upload goes by a signed URL)."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    chunks = [bytes(chunk) async for chunk in body]
    return b"".join(chunks)


def encode_token(next_name: str) -> str:
    """A page token: the name the next page starts at (opaque to callers)."""
    return base64.urlsafe_b64encode(next_name.encode()).decode()


def decode_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return check_name(base64.urlsafe_b64decode(token.encode()).decode(), field_name="page_token")
    except (ValueError, UnicodeDecodeError, InvalidInput):
        raise InvalidInput("page_token", "is not a token this listing gave") from None
