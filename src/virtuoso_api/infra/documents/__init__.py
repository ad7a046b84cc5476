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
    """The store the settings ask for: Firestore with ``USE_FIRESTORE``, else SQLite in ``DATA_DIR``."""
    from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.database_path, clock=clock)
