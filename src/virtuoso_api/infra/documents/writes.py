"""Writes that must not be lost (history, command intents): straight to the store, or through the outbox.

The local store is down only when its disk is, so writes go to it directly. A remote store (Firestore)
gets them through the outbox's ``documents`` channel: while it is unreachable they wait in the local
log and are replayed in order. Either way :meth:`DurableWrites.write` returning means the write is
safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from virtuoso_api.infra.documents.port import (
    UNSET,
    DocumentError,
    DocumentStore,
    JsonObject,
    Patch,
    Put,
    Remove,
    WriteOp,
    _Unset,
    check_collection,
    check_data,
    check_doc_id,
)
from virtuoso_api.infra.outbox import Outbox, OutboxChannel
from virtuoso_api.kit.timestamps import format_timestamp, parse_timestamp

CHANNEL = "documents"


class DurableWrites(Protocol):
    async def write(self, operations: Sequence[WriteOp]) -> None:
        """Apply ``operations`` together, now or (for a remote store that is down) later, in order."""
        ...


class DirectWrites:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def write(self, operations: Sequence[WriteOp]) -> None:
        if operations:
            await self._store.write_batch(operations)


class OutboxWrites:
    """Writes to ``store`` through the outbox channel ``documents``; see the module docstring."""

    def __init__(self, store: DocumentStore, outbox: Outbox) -> None:
        async def send(payload: Any) -> None:
            await store.write_batch([decode_operation(op) for op in payload["ops"]])

        # A write the store refuses for good (a patch of a document that is gone, data it cannot
        # keep) must not block the writes queued behind it.
        self.channel: OutboxChannel = outbox.channel(
            CHANNEL, send, refused=(DocumentError, ValueError, TypeError)
        )

    async def write(self, operations: Sequence[WriteOp]) -> None:
        if operations:
            await self.channel.deliver({"ops": [encode_operation(op) for op in operations]})


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
    if op.expect is not None:
        return {**base, "kind": "remove", "expect": check_data(op.expect)}
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
        return Remove(collection, doc_id, encoded.get("expect"))
    raise ValueError(f"unknown outbox operation {kind!r}")
