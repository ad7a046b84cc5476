"""The documents capability: port, SQLite adapter, and the factory that picks one from the settings."""

from __future__ import annotations

from virtuoso_api.config import Settings
from virtuoso_api.infra.documents.port import (
    MAX_BATCH_OPERATIONS,
    UNSET,
    Document,
    DocumentAlreadyExists,
    DocumentError,
    DocumentNotFound,
    DocumentStore,
    Filter,
    InvalidCursor,
    JsonObject,
    Op,
    Page,
    Patch,
    Put,
    Query,
    Remove,
    WriteOp,
    is_valid_doc_id,
)
from virtuoso_api.kit.clock import Clock

__all__ = [
    "MAX_BATCH_OPERATIONS",
    "UNSET",
    "Document",
    "DocumentAlreadyExists",
    "DocumentError",
    "DocumentNotFound",
    "DocumentStore",
    "Filter",
    "InvalidCursor",
    "JsonObject",
    "Op",
    "Page",
    "Patch",
    "Put",
    "Query",
    "Remove",
    "WriteOp",
    "build_document_store",
    "is_valid_doc_id",
]


async def build_document_store(settings: Settings, *, clock: Clock) -> DocumentStore:
    """The store the settings ask for: Firestore with ``USE_FIRESTORE``, else SQLite in ``DATA_DIR``.

    Building a Firestore store does not contact Firestore (a service that starts while it is down
    degrades instead of failing); ``ping`` tells whether it answers."""
    if settings.use_firestore:
        try:  # imported here: the google libraries are the optional ``gcp`` extra
            from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
        except ImportError as exc:
            raise RuntimeError(
                "USE_FIRESTORE is on but the Google Cloud libraries are missing: "
                f"pip install 'virtuoso-api[gcp]' ({exc})"
            ) from exc
        return FirestoreDocumentStore.from_settings(settings, clock=clock)

    from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.database_path, clock=clock)
