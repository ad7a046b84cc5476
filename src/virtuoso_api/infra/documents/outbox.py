"""Degradation without loss: writes the primary store cannot take now wait in the local one.

:class:`OutboxWriter` sends each write to the primary store (Firestore) and, when that raises
:class:`~virtuoso_api.errors.BackendUnavailable`, appends it to an :class:`Outbox` kept in the local
store (SQLite) instead; the caller sees success either way. Once anything is waiting, later writes queue
behind it, so the primary receives writes in the order they were accepted. :meth:`OutboxWriter.flush`
(or :meth:`OutboxWriter.run_flusher` in the background) replays them in order and removes each only
after it landed, so a crash mid-flush replays a write rather than losing it: writes must be idempotent,
as puts with ids fixed by the caller are.

Each entry holds one ``write`` call's operations and is replayed as one ``write_batch``. Its id is a
sequence number, at least the current time in microseconds, so entries sort in append order across
restarts and across processes sharing the local file. A write the primary refuses for good (a patch of
a document that no longer exists) moves to ``<collection>_dead`` instead of blocking those behind it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents.port import (
    UNSET,
    DocumentAlreadyExists,
    DocumentError,
    DocumentNotFound,
    DocumentStore,
    JsonObject,
    Patch,
    Put,
    Query,
    Remove,
    WriteOp,
    _Unset,
    check_collection,
    check_data,
    check_doc_id,
)
from virtuoso_api.kit.clock import Clock, SystemClock
from virtuoso_api.kit.timestamps import format_timestamp, parse_timestamp

logger = logging.getLogger(__name__)

_PAGE: Final = 100
_APPEND_ATTEMPTS: Final = 20
_LEASE_ID: Final = "flusher"


def encode_operation(op: WriteOp) -> JsonObject:
    """``op`` as JSON; checks it as the stores would, so a bad write fails now, not at replay."""
    base: JsonObject = {"collection": check_collection(op.collection), "doc_id": check_doc_id(op.doc_id)}
    if isinstance(op, Put):
        expires = format_timestamp(op.expires_at) if op.expires_at else None
        return {**base, "kind": "put", "data": check_data(op.data), "expires_at": expires}
    if isinstance(op, Patch):
        encoded = {**base, "kind": "patch", "changes": check_data(op.changes)}
        if not isinstance(op.expires_at, _Unset):  # absent means "leave expiry as it is"
            encoded["expires_at"] = format_timestamp(op.expires_at) if op.expires_at else None
        return encoded
    return {**base, "kind": "remove"}


def decode_operation(encoded: JsonObject) -> WriteOp:
    collection, doc_id, kind = encoded["collection"], encoded["doc_id"], encoded["kind"]
    expires = encoded.get("expires_at")
    expires_at = parse_timestamp(expires) if expires else None
    if kind == "put":
        return Put(collection, doc_id, encoded["data"], expires_at)
    if kind == "patch":
        return Patch(collection, doc_id, encoded["changes"], expires_at if "expires_at" in encoded else UNSET)
    if kind == "remove":
        return Remove(collection, doc_id)
    raise ValueError(f"unknown outbox operation {kind!r}")


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One queued ``write``: its operations, replayed together."""

    id: str
    operations: list[WriteOp]


class Outbox:
    """Write operations waiting for the primary store, kept in order in ``local``.

    ``clock`` must be the local store's clock: it stamps entries and times the flusher's lease."""

    def __init__(
        self, local: DocumentStore, *, collection: str = "outbox", clock: Clock | None = None
    ) -> None:
        self._local = local
        self._collection = check_collection(collection)
        self._dead = check_collection(f"{collection}_dead")
        self._meta = check_collection(f"{collection}_meta")
        self._clock = clock or SystemClock()
        self._append_lock = asyncio.Lock()

    async def append(self, operations: Sequence[WriteOp]) -> str:
        """Queue one write (its operations replay together); returns the entry id."""
        encoded = [encode_operation(op) for op in operations]
        now = self._clock.now()
        async with self._append_lock:
            for _ in range(_APPEND_ATTEMPTS):
                seq = max(await self._tail() + 1, int(now.timestamp() * 1_000_000))
                entry_id = f"{seq:020d}"  # fixed width: ids sort as the numbers do
                data = {"seq": seq, "ops": encoded, "count": len(encoded), "at": format_timestamp(now)}
                try:
                    await self._local.create(self._collection, entry_id, data)
                except DocumentAlreadyExists:
                    continue  # another process took this number: look at the tail again
                return entry_id
        raise BackendUnavailable(self._local.backend, "could not append to the outbox: too much contention")

    async def _tail(self) -> int:
        page = await self._local.query(Query(self._collection, order_by="seq", descending=True, limit=1))
        return int(page.documents[0].data["seq"]) if page.documents else 0

    async def is_empty(self) -> bool:
        page = await self._local.query(Query(self._collection, limit=1))
        return not page.documents and page.next_cursor is None

    async def head(self, limit: int = _PAGE) -> list[OutboxEntry]:
        """The oldest entries, oldest first."""
        page = await self._local.query(Query(self._collection, limit=limit))
        return [
            OutboxEntry(doc.id, [decode_operation(op) for op in doc.data["ops"]]) for doc in page.documents
        ]

    async def pending(self) -> int:
        """How many operations are waiting."""
        total, query = 0, Query(self._collection, limit=1000)
        while True:
            page = await self._local.query(query)
            total += sum(int(doc.data["count"]) for doc in page.documents)
            if page.next_cursor is None:
                return total
            query = Query(self._collection, limit=1000, cursor=page.next_cursor)

    async def remove(self, entry_id: str) -> None:
        await self._local.delete(self._collection, entry_id)

    async def dead_letter(self, entry: OutboxEntry, reason: str) -> None:
        """Set aside an entry the primary refuses for good, atomically with its removal."""
        data = {
            "ops": [encode_operation(op) for op in entry.operations],
            "reason": reason,
            "at": format_timestamp(self._clock.now()),
        }
        await self._local.write_batch([Put(self._dead, entry.id, data), Remove(self._collection, entry.id)])

    async def dead_letters(self, limit: int = _PAGE) -> list[tuple[OutboxEntry, str]]:
        page = await self._local.query(Query(self._dead, limit=limit))
        return [
            (OutboxEntry(doc.id, [decode_operation(op) for op in doc.data["ops"]]), str(doc.data["reason"]))
            for doc in page.documents
        ]

    # A lease in the local store keeps flushers of several processes on one file from replaying the
    # same entries side by side (which could land an old write after a newer one).

    async def take_lease(self, owner: str, seconds: float) -> bool:
        expires_at = self._clock.now() + timedelta(seconds=seconds)
        try:
            await self._local.create(self._meta, _LEASE_ID, {"owner": owner}, expires_at=expires_at)
        except DocumentAlreadyExists:
            return await self.renew_lease(owner, seconds)
        return True

    async def renew_lease(self, owner: str, seconds: float) -> bool:
        lease = await self._local.get(self._meta, _LEASE_ID)
        if lease is None or lease.data.get("owner") != owner:
            return False
        try:
            expires_at = self._clock.now() + timedelta(seconds=seconds)
            await self._local.patch(self._meta, _LEASE_ID, {}, expires_at=expires_at)
        except DocumentNotFound:
            return False
        return True

    async def release_lease(self, owner: str) -> None:
        lease = await self._local.get(self._meta, _LEASE_ID)
        if lease is not None and lease.data.get("owner") == owner:
            await self._local.delete(self._meta, _LEASE_ID)


class OutboxWriter:
    """Writes to ``primary`` while it answers and to ``outbox`` while it does not; see the module."""

    def __init__(self, primary: DocumentStore, outbox: Outbox, *, lease_seconds: float = 60.0) -> None:
        self._primary = primary
        self._outbox = outbox
        self._lease_seconds = lease_seconds
        self._owner = secrets.token_hex(8)
        self._flush_lock = asyncio.Lock()

    async def write(self, operations: Sequence[WriteOp]) -> None:
        """Apply ``operations`` to the primary now, or later if it is unavailable.

        Errors other than unavailability (a patch of a missing document, invalid data) reach the caller
        when the primary answers; a write queued behind others is only checked when it is replayed."""
        if not operations:
            return
        if not await self._outbox.is_empty():
            await self._outbox.append(operations)
            return
        try:
            await self._primary.write_batch(operations)
        except BackendUnavailable as exc:
            logger.warning("%s is unavailable; write queued in the outbox: %s", self._primary.backend, exc)
            await self._outbox.append(operations)

    async def pending(self) -> int:
        return await self._outbox.pending()

    async def flush(self) -> int:
        """Replay queued writes in order until none is left or the primary is unavailable again;
        returns how many operations landed. One flush runs at a time; others wait for it."""
        async with self._flush_lock:
            if not await self._outbox.take_lease(self._owner, self._lease_seconds):
                return 0  # another process is flushing this outbox
            try:
                return await self._replay()
            finally:
                await self._outbox.release_lease(self._owner)

    async def _replay(self) -> int:
        landed = 0
        while entries := await self._outbox.head():
            for entry in entries:
                try:
                    await self._primary.write_batch(entry.operations)
                except BackendUnavailable:
                    return landed
                except (DocumentError, ValueError, TypeError) as exc:
                    logger.error("outbox entry %s refused by %s: %s", entry.id, self._primary.backend, exc)
                    await self._outbox.dead_letter(entry, f"{type(exc).__name__}: {exc}")
                    continue
                await self._outbox.remove(entry.id)
                landed += len(entry.operations)
                if not await self._outbox.renew_lease(self._owner, self._lease_seconds):
                    return landed
        return landed

    async def run_flusher(self, interval: float) -> None:
        """Flush every ``interval`` seconds until cancelled; for the app lifespan::

        task = asyncio.create_task(writer.run_flusher(5.0))
        ...
        task.cancel()
        """
        while True:
            try:
                landed = await self.flush()
                if landed:
                    logger.info("outbox: %d operations reached %s", landed, self._primary.backend)
            except Exception as exc:  # the loop must outlive a failing local store
                logger.exception("outbox flush failed: %s", exc)
            await asyncio.sleep(interval)
