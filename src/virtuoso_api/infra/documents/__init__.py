"""The documents capability: port, SQLite adapter, and the factory that picks one from the settings."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.documents.paging import query_page
from virtuoso_api.infra.documents.port import (
    MAX_BATCH_OPERATIONS,
    UNSET,
    Document,
    DocumentAlreadyExists,
    DocumentChanged,
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
from virtuoso_api.infra.documents.writes import DirectWrites, DurableWrites, OutboxWrites
from virtuoso_api.infra.outbox import Outbox
from virtuoso_api.kit.clock import Clock
from virtuoso_api.resilience import RemoteCall

__all__ = [
    "MAX_BATCH_OPERATIONS",
    "UNSET",
    "Document",
    "DocumentAlreadyExists",
    "DocumentChanged",
    "Documents",
    "DurableWrites",
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
    "build_documents",
    "check_libraries",
    "is_valid_doc_id",
    "query_page",
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


@dataclass(frozen=True)
class Documents:
    """The documents capability as the root hands it out: the store, and the path for writes that
    must not be lost (straight to a local store, through the outbox for a remote one)."""

    store: DocumentStore
    writes: DurableWrites

    @property
    def backend(self) -> str:
        return self.store.backend


@asynccontextmanager
async def build_documents(settings: Settings, *, clock: Clock, outbox: Outbox) -> AsyncIterator[Documents]:
    """The store the settings ask for: Firestore with ``USE_FIRESTORE`` (every call through the
    resilience kit with the ``REMOTE_*`` budget and ``BREAKER_COOLDOWN_SECONDS``), else SQLite in
    ``DATA_DIR``; closed on exit.

    Building a Firestore store does not contact Firestore (a service that starts while it is down
    degrades instead of failing); ``ping`` tells whether it answers."""
    check_libraries(settings)
    store: DocumentStore
    writes: DurableWrites
    if settings.use_firestore:
        # Imported here: the google libraries are the optional ``gcp`` extra.
        from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore

        remote = RemoteCall.from_settings("firestore", settings, clock=clock)
        store = FirestoreDocumentStore.from_settings(settings, clock=clock, remote=remote)
        writes = OutboxWrites(store, outbox)
    else:
        from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore

        store = SqliteDocumentStore(settings.database_path, clock=clock)
        writes = DirectWrites(store)
    try:
        yield Documents(store, writes)
    finally:
        await store.close()
