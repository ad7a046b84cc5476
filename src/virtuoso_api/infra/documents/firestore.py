"""The documents port over Cloud Firestore (``USE_FIRESTORE``), through the official ``AsyncClient``.

Layout: one Firestore collection per port collection; a document's data are its fields, and its expiry
the timestamp field ``expires_at`` (left out when it never expires), the field the TTL policies in
``firestore.indexes.json`` name. TTL deletes only eventually (typically within a day), so every read
checks expiry against the injected clock, and :meth:`FirestoreDocumentStore.delete_expired` remains.

No Firestore transactions: their begin/commit/rollback calls carry the library's 60 s default retries,
which cannot be switched off per call. A read-modify-write (create over an expired document, patch,
delete) reads, then writes under a ``last_update_time`` precondition, and starts again if someone wrote
in between.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from google.cloud.firestore_v1 import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents.firestore_batch import Key, Outcome, plan_batch, reads_needed
from virtuoso_api.infra.documents.firestore_calls import (
    BACKEND,
    AlreadyThere,
    Missing,
    Stale,
    call,
    contention_pause,
    make_client,
)
from virtuoso_api.infra.documents.firestore_codec import decode, encode, replacement
from virtuoso_api.infra.documents.firestore_query import QueryPlan, matches, plan_query
from virtuoso_api.infra.documents.port import (
    EXPIRY_FIELD,
    MAX_BATCH_OPERATIONS,
    UNSET,
    Document,
    DocumentAlreadyExists,
    InvalidCursor,
    JsonObject,
    Page,
    Patch,
    Put,
    Query,
    Scalar,
    WriteOp,
    _Unset,
    check_collection,
    check_data,
    check_doc_id,
    decode_cursor,
    encode_cursor,
    is_valid_doc_id,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import as_utc
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget

if TYPE_CHECKING:
    from google.cloud.firestore_v1.async_client import AsyncClient
    from google.cloud.firestore_v1.async_document import AsyncDocumentReference
    from google.cloud.firestore_v1.async_query import AsyncQuery
    from google.cloud.firestore_v1.base_document import DocumentSnapshot

    from virtuoso_api.config import Settings

    Snapshot = DocumentSnapshot[AsyncDocumentReference]

#: Read-modify-write attempts that may lose to concurrent writers before giving up.
_RACES: Final = 12
#: Round trips one query page may take when expired or client-filtered documents are skipped.
_QUERY_ROUNDS: Final = 4


class FirestoreDocumentStore:
    """:class:`~virtuoso_api.infra.documents.port.DocumentStore` over Cloud Firestore.

    ``client`` is a ``google.cloud.firestore.AsyncClient`` (see :meth:`from_settings`); ``clock`` says
    what "now" is for expiry; every call goes through ``remote`` (the retry budget and the breaker;
    by default a budget of 6 s and a breaker on ``clock``)."""

    def __init__(self, client: AsyncClient, *, clock: Clock, remote: RemoteCall | None = None) -> None:
        self._client = client
        self._clock = clock
        self._remote = remote or RemoteCall(
            BACKEND, budget=RetryBudget(), breaker=CircuitBreaker(BACKEND, clock=clock)
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Clock, remote: RemoteCall | None = None
    ) -> FirestoreDocumentStore:
        """Project ``GCP_PROJECT_ID``; the emulator at ``FIRESTORE_EMULATOR_HOST`` when that is set
        (from the environment or ``.env``), else Google with Application Default Credentials."""
        if not settings.gcp_project_id:
            raise ValueError("GCP_PROJECT_ID must be set to use Firestore")
        client = make_client(settings.gcp_project_id, emulator_host=settings.firestore_emulator_host)
        return cls(client, clock=clock, remote=remote)

    @property
    def remote(self) -> RemoteCall:
        return self._remote

    @property
    def backend(self) -> str:
        return BACKEND

    # -- plumbing ------------------------------------------------------------------------------

    def _ref(self, collection: str, doc_id: str) -> AsyncDocumentReference:
        return self._client.collection(collection).document(doc_id)

    def _live(self, document: Document) -> bool:
        return document.expires_at is None or document.expires_at > self._clock.now()

    async def _snapshot(self, ref: AsyncDocumentReference) -> Snapshot:
        # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_document.AsyncDocumentReference#google_cloud_firestore_v1_async_document_AsyncDocumentReference_get
        return await call(self._remote, lambda t: ref.get(retry=None, timeout=t), what=f"reading {ref.path}")

    async def _replace_if_unchanged(self, snapshot: Snapshot, payload: JsonObject) -> None:
        option = self._client.write_option(last_update_time=snapshot.update_time)
        updates = replacement(snapshot.to_dict() or {}, payload)
        await call(
            self._remote,
            lambda t: snapshot.reference.update(updates, option=option, retry=None, timeout=t),
            what=f"writing {snapshot.reference.path}",
            guarded=True,
        )

    # -- single documents ----------------------------------------------------------------------

    async def get(self, collection: str, doc_id: str) -> Document | None:
        snapshot = await self._snapshot(self._ref(check_collection(collection), check_doc_id(doc_id)))
        if not snapshot.exists:
            return None
        document = decode(snapshot)
        return document if self._live(document) else None

    async def create(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        ref = self._ref(check_collection(collection), check_doc_id(doc_id))
        payload = encode(check_data(data), expires_at)
        created = Document(doc_id, dict(data), as_utc(expires_at) if expires_at else None)
        sent = 0

        async def attempt(timeout: float) -> None:
            nonlocal sent
            sent += 1
            # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_document.AsyncDocumentReference#google_cloud_firestore_v1_async_document_AsyncDocumentReference_create
            await ref.create(payload, retry=None, timeout=timeout)

        for race in range(_RACES):
            await contention_pause(race)
            sent = 0
            try:
                await call(self._remote, attempt, what=f"creating {ref.path}")
                return created
            except AlreadyThere:
                pass
            snapshot = await self._snapshot(ref)
            if not snapshot.exists:
                continue  # deleted since; try to create again
            stored = decode(snapshot)
            if sent > 1 and stored.data == created.data and stored.expires_at == created.expires_at:
                # An earlier attempt of this very call landed before its answer was lost: that is
                # our own write, not someone else's document.
                return created
            if self._live(stored):
                raise DocumentAlreadyExists(collection, doc_id)
            try:
                await self._replace_if_unchanged(snapshot, payload)
                return created
            except (Stale, Missing):
                continue
        raise BackendUnavailable(BACKEND, f"{collection}/{doc_id} kept changing while being created")

    async def put(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        ref = self._ref(check_collection(collection), check_doc_id(doc_id))
        payload = encode(check_data(data), expires_at)
        # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_document.AsyncDocumentReference#google_cloud_firestore_v1_async_document_AsyncDocumentReference_set
        await call(
            self._remote, lambda t: ref.set(payload, retry=None, timeout=t), what=f"writing {ref.path}"
        )
        return Document(doc_id, dict(data), as_utc(expires_at) if expires_at else None)

    async def patch(
        self,
        collection: str,
        doc_id: str,
        changes: JsonObject,
        *,
        expires_at: datetime | None | _Unset = UNSET,
    ) -> Document:
        op = Patch(check_collection(collection), check_doc_id(doc_id), check_data(changes), expires_at)
        document = (await self._apply([op]))[(collection, doc_id)]
        assert document is not None  # a patch never ends in a removal
        return document

    async def delete(self, collection: str, doc_id: str) -> bool:
        ref = self._ref(check_collection(collection), check_doc_id(doc_id))
        for race in range(_RACES):
            await contention_pause(race)
            snapshot = await self._snapshot(ref)
            if not snapshot.exists:
                return False
            live = self._live(decode(snapshot))
            option = self._client.write_option(last_update_time=snapshot.update_time)
            try:
                # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_document.AsyncDocumentReference#google_cloud_firestore_v1_async_document_AsyncDocumentReference_delete
                await call(
                    self._remote,
                    functools.partial(self._guarded_delete, ref, option),
                    what=f"deleting {ref.path}",
                    guarded=True,
                )
                return live
            except (Stale, Missing):
                continue
        raise BackendUnavailable(BACKEND, f"{collection}/{doc_id} kept changing while being deleted")

    @staticmethod
    async def _guarded_delete(ref: AsyncDocumentReference, option: Any, timeout: float) -> None:
        await ref.delete(option=option, retry=None, timeout=timeout)

    # -- queries -------------------------------------------------------------------------------

    async def query(self, query: Query) -> Page:
        plan = plan_query(query)
        position = decode_cursor(query)
        if position is not None and not is_valid_doc_id(position[1]):
            raise InvalidCursor("the cursor is not one this service handed out")
        if EXPIRY_FIELD in {query.order_by, *(item.field for item in query.filters)}:
            return Page([], None)  # not a data field, so no document has it (as in SQLite)
        size = query.limit + 1
        found: list[Document] = []
        last: Document | None = None
        for _ in range(_QUERY_ROUNDS):
            snapshots = await call(
                self._remote,
                functools.partial(self._fetch, query, plan, position, size),
                what=f"querying {query.collection}",
            )
            for snapshot in snapshots:
                if len(found) == query.limit and last is not None:
                    return Page(found, encode_cursor(query, last))  # this one proves there is more
                last = decode(snapshot)
                if self._keep(last, query, plan):
                    found.append(last)
            if len(snapshots) < size or last is None:
                return Page(found, None)
            position = (last.data.get(plan.server_order) if plan.server_order else None, last.id)
        # Too many skipped in a row: hand back what there is and let the caller ask again.
        return Page(found, encode_cursor(query, last) if last is not None else None)

    def _keep(self, document: Document, query: Query, plan: QueryPlan) -> bool:
        if not self._live(document):
            return False
        # Firestore orders nulls first; SQLite (and the port) leave documents without a value out.
        if query.order_by is not None and document.data.get(query.order_by) is None:
            return False
        return matches(document.data, plan.client_filters)

    async def _fetch(
        self,
        query: Query,
        plan: QueryPlan,
        position: tuple[Scalar, str] | None,
        size: int,
        timeout: float,
    ) -> list[Snapshot]:
        collection = self._client.collection(query.collection)
        built: AsyncQuery = collection.limit(size)
        for item in plan.server_filters:
            built = built.where(filter=FieldFilter(item.field, item.op.value, item.value))
        direction = "DESCENDING" if query.descending else "ASCENDING"
        if plan.server_order is not None:
            built = built.order_by(plan.server_order, direction=direction)
        built = built.order_by(FieldPath.document_id(), direction=direction)
        if position is not None:
            value, doc_id = position
            start: dict[str, Any] = {FieldPath.document_id(): collection.document(doc_id)}
            if plan.server_order is not None:
                start[plan.server_order] = value
            built = built.start_after(start)
        # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_query.AsyncQuery#google_cloud_firestore_v1_async_query_AsyncQuery_get
        return list(await built.get(retry=None, timeout=timeout))

    # -- batches -------------------------------------------------------------------------------

    async def write_batch(self, operations: Sequence[WriteOp]) -> None:
        for op in operations:
            check_collection(op.collection)
            check_doc_id(op.doc_id)
            if isinstance(op, Put):
                check_data(op.data)
            elif isinstance(op, Patch):
                check_data(op.changes)
        for start in range(0, len(operations), MAX_BATCH_OPERATIONS):
            await self._apply(operations[start : start + MAX_BATCH_OPERATIONS])

    async def _apply(self, chunk: Sequence[WriteOp]) -> dict[Key, Outcome]:
        """Commit one chunk (at most 500 operations) atomically; returns each document's final state."""
        for race in range(_RACES):
            await contention_pause(race)
            needed = reads_needed(chunk)
            snapshots = await self._read_all(needed) if needed else {}
            stored = {key: decode(s) for key, s in snapshots.items() if s.exists}
            final = plan_batch(chunk, stored, self._clock.now())
            try:
                await call(
                    self._remote,
                    functools.partial(self._commit, final, snapshots),
                    what=f"writing a batch of {len(chunk)}",
                    guarded=bool(snapshots),
                )
                return final
            except (Stale, Missing):
                continue
        raise BackendUnavailable(BACKEND, "documents in the batch kept changing while being written")

    async def _read_all(self, keys: list[Key]) -> dict[Key, Snapshot]:
        refs = [self._ref(collection, doc_id) for collection, doc_id in keys]

        async def attempt(timeout: float) -> dict[Key, Snapshot]:
            # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_client.AsyncClient#google_cloud_firestore_v1_async_client_AsyncClient_get_all
            found = self._client.get_all(refs, retry=None, timeout=timeout)
            return {(s.reference.parent.id, s.id): s async for s in found}

        return await call(self._remote, attempt, what=f"reading {len(keys)} documents")

    async def _commit(
        self, final: dict[Key, Outcome], snapshots: dict[Key, Snapshot], timeout: float
    ) -> None:
        batch = self._client.batch()  # a batch commits once, so each attempt builds its own
        for key, outcome in final.items():
            ref = self._ref(*key)
            base = snapshots.get(key)
            if base is None or not base.exists:  # not read, so written blind, as a put would be
                if outcome is None:
                    batch.delete(ref)
                else:
                    batch.set(ref, encode(outcome.data, outcome.expires_at))
                continue
            guard = self._client.write_option(last_update_time=base.update_time)
            if outcome is None:
                batch.delete(ref, option=guard)
            else:
                payload = encode(outcome.data, outcome.expires_at)
                batch.update(ref, replacement(base.to_dict() or {}, payload), option=guard)
        # https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_batch.AsyncWriteBatch#google_cloud_firestore_v1_async_batch_AsyncWriteBatch_commit
        await batch.commit(retry=None, timeout=timeout)

    async def delete_expired(self, collection: str, *, limit: int = MAX_BATCH_OPERATIONS) -> int:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        col = self._client.collection(check_collection(collection))
        now = self._clock.now()
        expired_query = col.where(filter=FieldFilter(EXPIRY_FIELD, "<=", now)).limit(limit)
        snapshots = await call(
            self._remote,
            lambda t: expired_query.get(retry=None, timeout=t),
            what=f"finding expired documents in {collection}",
        )
        removed = 0
        for start in range(0, len(snapshots), MAX_BATCH_OPERATIONS):
            removed += await self._delete_unchanged(list(snapshots[start : start + MAX_BATCH_OPERATIONS]))
        return removed

    async def _delete_unchanged(self, snapshots: list[Snapshot]) -> int:
        """Delete documents unless rewritten since they were read (a put may have revived one)."""

        async def commit(group: list[Snapshot], timeout: float) -> None:
            batch = self._client.batch()
            for snapshot in group:
                guard = self._client.write_option(last_update_time=snapshot.update_time)
                batch.delete(snapshot.reference, option=guard)
            await batch.commit(retry=None, timeout=timeout)

        what = "deleting expired documents"
        try:
            await call(self._remote, functools.partial(commit, snapshots), what=what, guarded=True)
            return len(snapshots)
        except (Stale, Missing):
            pass
        removed = 0  # one of them changed: settle each on its own
        for snapshot in snapshots:
            try:
                await call(self._remote, functools.partial(commit, [snapshot]), what=what, guarded=True)
                removed += 1
            except (Stale, Missing):
                continue
        return removed

    # -- health --------------------------------------------------------------------------------

    async def ping(self) -> None:
        # One document read: the cheapest call that proves the endpoint, credentials and database.
        await self._snapshot(self._client.collection("_ping").document("ping"))

    async def close(self) -> None:
        # AsyncClient.close() only closes an HTTP session it never opens; the gRPC channel (created on
        # first use) belongs to the generated client and has to be closed on the loop that made it.
        api = getattr(self._client, "_firestore_api_internal", None)
        if api is not None:
            await api.transport.close()
        self._client.close()  # type: ignore[no-untyped-call]
