"""The documents capability: port, SQLite adapter, and the factory that picks one from the settings."""

from __future__ import annotations

import importlib

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
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
    "check_libraries",
    "is_valid_doc_id",
]


def check_libraries(settings: Settings) -> None:
    """Raise :class:`Misconfigured` if the settings need a library this installation lacks.

    Called before start-up too, so ``serve`` can refuse in one line instead of failing in its lifespan.
    """
    if not settings.use_firestore:
        return
    try:
        importlib.import_module("google.cloud.firestore")
    except ImportError as exc:
        raise Misconfigured(
            "USE_FIRESTORE is on but the Google Cloud libraries are missing: pip install 'virtuoso-api[gcp]'"
        ) from exc


async def build_document_store(settings: Settings, *, clock: Clock) -> DocumentStore:
    """The store the settings ask for: Firestore with ``USE_FIRESTORE``, else SQLite in ``DATA_DIR``.

    Building a Firestore store does not contact Firestore (a service that starts while it is down
    degrades instead of failing); ``ping`` tells whether it answers."""
    check_libraries(settings)
    if settings.use_firestore:
        # Imported here: the google libraries are the optional ``gcp`` extra.
        from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore

        return FirestoreDocumentStore.from_settings(settings, clock=clock)

    from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.database_path, clock=clock)
