"""The documents capability: JSON documents in named collections, with optional expiry.

Domain code (API keys, sessions, history, cache, jobs) stores everything through this port; the
SQLite adapter serves one machine, the Firestore adapter (``USE_FIRESTORE``) many. Both pass the same
contract suite (``tests/infra/documents/test_contract.py``).

Semantics both adapters keep:

- A document is a JSON object (``str``, numbers, ``bool``, ``None``, lists, nested objects) that
  Firestore can store too: integers within 64 bits, finite floats, no array directly inside an array,
  no empty or ``__x__`` field names, objects and arrays nested at most 20 deep, valid Unicode strings
  (:func:`check_data` refuses the rest, in every adapter, with the rule of ``kit/json_rules.py``).
  Times are fixed-width UTC strings (``kit.timestamps``), so they order and compare as strings.
- ``expires_at`` is kept outside the data (and is a reserved field name in it). An expired document
  reads as absent (``get`` returns ``None``, queries skip it) until :meth:`DocumentStore.delete_expired`
  removes it; in Firestore the field is a timestamp a TTL policy can use.
- Queries filter on top-level fields, order by at most one field (ties broken by document id, in the
  same direction; without ``order_by`` only ascending by id) and page with an opaque cursor. A field
  that is filtered or ordered on holds one kind of scalar in every document (SQLite orders ``True``
  with ``1``; Firestore keeps types apart); documents where the order field is missing or null are
  not returned. A page may hold fewer than ``limit`` documents when
  expired ones were skipped; only ``next_cursor is None`` means the end.
- ``write_batch`` applies puts, patches and removes together. SQLite applies a batch atomically; in
  Firestore each chunk of at most 500 operations is atomic.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol, TypeAlias

# Re-exported: the adapters and their tests import the rule from here.
from virtuoso_api.kit.json_rules import check_storable as check_storable
from virtuoso_api.kit.json_rules import unicode_problem

JsonObject: TypeAlias = dict[str, Any]
Scalar: TypeAlias = str | int | float | bool | None

#: The largest batch Firestore commits atomically; adapters split larger batches into chunks this size.
MAX_BATCH_OPERATIONS: Final = 500


class DocumentError(Exception):
    """Base of the errors a :class:`DocumentStore` raises on purpose."""


class DocumentNotFound(DocumentError):
    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"{collection}/{doc_id} does not exist")
        self.collection = collection
        self.doc_id = doc_id


class DocumentAlreadyExists(DocumentError):
    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"{collection}/{doc_id} already exists")
        self.collection = collection
        self.doc_id = doc_id


class DocumentChanged(DocumentError):
    """A batch expected a document to be as it was read (:class:`Remove` with ``expect``), and it is
    not: another writer changed or removed it first. Nothing in the batch was written."""

    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"{collection}/{doc_id} changed since it was read")
        self.collection = collection
        self.doc_id = doc_id


def matches(document: Document | None, expect: JsonObject) -> bool:
    """Whether ``document`` exists with the top-level field values ``expect`` names."""
    return document is not None and all(document.data.get(name) == value for name, value in expect.items())


class InvalidCursor(DocumentError):
    """A cursor that this store did not hand out, or one for another query."""


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    data: JsonObject
    expires_at: datetime | None = None


class Op(StrEnum):
    EQ = "=="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: Op
    value: str | int | float | bool

    def __post_init__(self) -> None:
        check_queryable(self.field)
        # None is refused: SQLite cannot tell a null field from a missing one, Firestore can.
        if self.value is None:
            raise ValueError(f"filter on {self.field!r}: None is not a filter value")


@dataclass(frozen=True, slots=True)
class Query:
    """Documents lacking the ``order_by`` field are not returned (Firestore's rule, kept by SQLite too)."""

    collection: str
    filters: tuple[Filter, ...] = ()
    order_by: str | None = None
    descending: bool = False
    limit: int = 100
    cursor: str | None = None

    def __post_init__(self) -> None:
        check_collection(self.collection)
        if self.order_by is not None:
            check_queryable(self.order_by)
        elif self.descending:
            # Firestore needs an index on __name__ DESC for this and its emulator refuses it outright.
            raise ValueError("descending order needs an order_by field")
        if not 1 <= self.limit <= 1000:
            raise ValueError(f"limit must be between 1 and 1000, got {self.limit}")


@dataclass(frozen=True, slots=True)
class Page:
    documents: list[Document]
    next_cursor: str | None


class _Unset:
    """Marks "leave expiry as it is" in :meth:`DocumentStore.patch`, distinct from ``None`` (never expire)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True, slots=True)
class Put:
    """Create or replace a document."""

    collection: str
    doc_id: str
    data: JsonObject
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Patch:
    """Set top-level fields of an existing document (others are kept)."""

    collection: str
    doc_id: str
    changes: JsonObject
    expires_at: datetime | None | _Unset = field(default=UNSET)


@dataclass(frozen=True, slots=True)
class Remove:
    """Delete a document. With ``expect``, only if it is still there with those top-level field
    values: otherwise the whole batch is refused (:class:`DocumentChanged`) and nothing is written,
    so a writer that acted on what it read never overwrites what another did since."""

    collection: str
    doc_id: str
    expect: JsonObject | None = None


WriteOp: TypeAlias = Put | Patch | Remove


class DocumentStore(Protocol):
    """JSON documents in collections. Every method may raise
    :class:`~virtuoso_api.errors.BackendUnavailable` when the backend does not answer."""

    @property
    def backend(self) -> str:
        """A short name for health checks and errors: ``sqlite`` or ``firestore``."""
        ...

    async def get(self, collection: str, doc_id: str) -> Document | None:
        """The document, or ``None`` if it does not exist or has expired."""
        ...

    async def create(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        """Store a new document; :class:`DocumentAlreadyExists` if a live one has that id.

        An expired document with the same id is replaced."""
        ...

    async def put(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        """Create or replace a document."""
        ...

    async def patch(
        self,
        collection: str,
        doc_id: str,
        changes: JsonObject,
        *,
        expires_at: datetime | None | _Unset = UNSET,
    ) -> Document:
        """Set the given top-level fields and return the whole document;
        :class:`DocumentNotFound` if it does not exist or has expired."""
        ...

    async def delete(self, collection: str, doc_id: str) -> bool:
        """Remove a document; ``True`` if a live one was there."""
        ...

    async def query(self, query: Query) -> Page:
        """Live documents matching every filter, in order, one page at a time."""
        ...

    async def write_batch(self, operations: Sequence[WriteOp]) -> None:
        """Apply the operations in order (see the module docstring for atomicity).

        A :class:`Patch` of a missing document raises :class:`DocumentNotFound`."""
        ...

    async def delete_expired(self, collection: str, *, limit: int = MAX_BATCH_OPERATIONS) -> int:
        """Remove up to ``limit`` expired documents of a collection; returns how many were removed."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`BackendUnavailable` when it does not."""
        ...

    async def close(self) -> None: ...


_COLLECTION = re.compile(r"[a-z][a-z0-9_]{0,62}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def check_collection(name: str) -> str:
    if not _COLLECTION.fullmatch(name):
        raise ValueError(f"invalid collection name {name!r}")
    return name


def check_field_name(name: str) -> str:
    if not _FIELD.fullmatch(name):
        raise ValueError(f"invalid field name {name!r}: top-level identifiers only")
    return name


def check_queryable(name: str) -> str:
    """A field a query may filter or order on: not the expiry, which lives outside the data."""
    if name == EXPIRY_FIELD:
        raise ValueError(f"{EXPIRY_FIELD!r} is the store's expiry, not a field of the data")
    return check_field_name(name)


def is_valid_doc_id(doc_id: str) -> bool:
    """For ids that come from callers: ``False`` where :func:`check_doc_id` would raise."""
    try:
        check_doc_id(doc_id)
    except ValueError:
        return False
    return True


def check_doc_id(doc_id: str) -> str:
    """Firestore's rules for ids, enforced by every adapter so data moves between them."""
    if not doc_id or doc_id in {".", ".."} or "/" in doc_id or len(doc_id.encode()) > 1500:
        raise ValueError(f"invalid document id {doc_id!r:.60}")
    if doc_id.startswith("__") and doc_id.endswith("__"):
        raise ValueError(f"invalid document id {doc_id!r:.60}: __name__ forms are reserved")
    return doc_id


#: Field name the adapters use for expiry; a document's data must not use it.
EXPIRY_FIELD: Final = "expires_at"


def check_data(data: JsonObject) -> JsonObject:
    """``data`` if every adapter can store it and read it back the same; ValueError or TypeError if not."""
    if EXPIRY_FIELD in data:
        raise ValueError(f"{EXPIRY_FIELD!r} is reserved for the store's expiry; pass expires_at= instead")
    check_storable(data)
    return data


def encode_cursor(query: Query, last: Document) -> str:
    """An opaque cursor: the last document's order value and id, bound to the query's shape."""
    order_value = last.data.get(query.order_by) if query.order_by else None
    payload = {"o": query.order_by, "d": query.descending, "v": order_value, "id": last.id}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: A cursor longer than this was not handed out (a bound on the work a forged one costs).
MAX_CURSOR_CHARS: Final = 32_768
#: The longest string order value a cursor carries (an indexed Firestore value is at most 1500 bytes).
MAX_CURSOR_TEXT: Final = 1500
_CURSOR_KEYS: Final = frozenset({"o", "d", "v", "id"})


def decode_cursor(query: Query) -> tuple[Scalar, str] | None:
    """``(order value, document id)`` of the last document seen, or ``None`` for the first page.

    A cursor comes back from callers, so anything this module did not write is :class:`InvalidCursor`:
    checked here, once, it cannot reach a store as a value the store cannot bind or compare."""
    if query.cursor is None:
        return None
    payload = _cursor_payload(query.cursor)
    if payload["o"] != query.order_by or payload["d"] is not query.descending:
        raise InvalidCursor("the cursor belongs to a different query")
    value = payload["v"]
    if not _is_cursor_value(value) or (query.order_by is None and value is not None):
        raise InvalidCursor("the cursor is not one this service handed out")
    return value, payload["id"]


def _cursor_payload(cursor: str) -> dict[str, Any]:
    invalid = InvalidCursor("the cursor is not one this service handed out")
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, RecursionError) as exc:  # binascii, UnicodeDecodeError and JSON are ValueErrors
        raise invalid from exc
    if not isinstance(payload, dict) or set(payload) != _CURSOR_KEYS:
        raise invalid
    order, descending, doc_id = payload["o"], payload["d"], payload["id"]
    if not (order is None or isinstance(order, str)) or not isinstance(descending, bool):
        raise invalid
    if not isinstance(doc_id, str) or not is_valid_doc_id(doc_id):
        raise invalid
    return payload


def _is_cursor_value(value: object) -> bool:
    """A scalar every store binds and compares: what an ordered field of a stored document can hold."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= MAX_CURSOR_TEXT and unicode_problem(value) is None
    return False
