"""Documents as the Firestore adapter stores them: the data as fields, the expiry as a timestamp field.

``expires_at`` is left out when a document never expires, so a TTL policy on it (see
``firestore.indexes.json``) never touches such a document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from google.cloud.firestore_v1 import DELETE_FIELD
from google.cloud.firestore_v1.field_path import FieldPath

from virtuoso_api.infra.documents.port import EXPIRY_FIELD, Document, JsonObject, check_storable
from virtuoso_api.kit.timestamps import as_utc

if TYPE_CHECKING:
    from google.cloud.firestore_v1.async_document import AsyncDocumentReference
    from google.cloud.firestore_v1.base_document import DocumentSnapshot

    Snapshot = DocumentSnapshot[AsyncDocumentReference]


def encode(data: JsonObject, expires_at: datetime | None) -> JsonObject:
    check_storable(data)
    return {**data, EXPIRY_FIELD: as_utc(expires_at)} if expires_at is not None else dict(data)


def replacement(old_fields: JsonObject, payload: JsonObject) -> JsonObject:
    """Field updates that turn a document with ``old_fields`` into exactly ``payload``.

    Keys are quoted as field paths: ``update`` reads ``a.b`` as a nested field, while the port's data
    may have such a key at the top level."""
    updates: JsonObject = {FieldPath(key).to_api_repr(): value for key, value in payload.items()}
    for key in old_fields.keys() - payload.keys():
        updates[FieldPath(key).to_api_repr()] = DELETE_FIELD
    return updates


def decode(snapshot: Snapshot) -> Document:
    data = snapshot.to_dict() or {}
    expiry = data.pop(EXPIRY_FIELD, None)
    if not isinstance(expiry, datetime):
        return Document(snapshot.id, data, None)
    # The client returns DatetimeWithNanoseconds; a plain datetime behaves like SQLite's everywhere.
    e = as_utc(expiry)
    return Document(
        snapshot.id, data, datetime(e.year, e.month, e.day, e.hour, e.minute, e.second, e.microsecond, UTC)
    )
