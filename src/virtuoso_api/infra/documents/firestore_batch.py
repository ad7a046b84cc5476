"""A chunk of write operations, played in memory into one final state per document.

SQLite applies a batch statement by statement inside one transaction, so a patch sees a put made
earlier in the same batch. A Firestore commit cannot read, so the Firestore adapter reads the documents
a chunk patches (those it has not already written in that chunk), plays the chunk here, and commits the
outcome: one write per document, guarded by the version it read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeAlias

from virtuoso_api.infra.documents.port import (
    Document,
    DocumentChanged,
    DocumentNotFound,
    Patch,
    Put,
    Remove,
    WriteOp,
    _Unset,
    matches,
)
from virtuoso_api.kit.timestamps import as_utc

Key: TypeAlias = tuple[str, str]
#: A document's state after the chunk: the whole document, or ``None`` when it ends removed.
Outcome: TypeAlias = Document | None


def reads_needed(chunk: Sequence[WriteOp]) -> list[Key]:
    """Documents patched, or removed only if unchanged, before anything in the chunk wrote them:
    their stored state is needed (and the commit is guarded by the version read)."""
    written: set[Key] = set()
    needed: dict[Key, None] = {}  # ordered and unique
    for op in chunk:
        key = (op.collection, op.doc_id)
        checked = isinstance(op, Patch) or (isinstance(op, Remove) and op.expect is not None)
        if checked and key not in written:
            needed[key] = None
        written.add(key)
    return list(needed)


def _expiry(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def plan_batch(chunk: Sequence[WriteOp], stored: Mapping[Key, Document], now: datetime) -> dict[Key, Outcome]:
    """The final state of every document the chunk touches, in the order first touched.

    ``stored`` holds the documents :func:`reads_needed` asked for that exist. A patch of a document
    that is missing or expired at that point raises :class:`DocumentNotFound`, and a removal whose
    ``expect`` it does not meet :class:`DocumentChanged`, as SQLite does.
    """
    state: dict[Key, Outcome] = {}
    for op in chunk:
        key = (op.collection, op.doc_id)
        if isinstance(op, Put):
            state[key] = Document(op.doc_id, dict(op.data), _expiry(op.expires_at))
        elif isinstance(op, Patch):
            current = state[key] if key in state else stored.get(key)
            if current is None or (current.expires_at is not None and current.expires_at <= now):
                raise DocumentNotFound(op.collection, op.doc_id)
            expires_at = current.expires_at if isinstance(op.expires_at, _Unset) else _expiry(op.expires_at)
            state[key] = Document(op.doc_id, {**current.data, **op.changes}, expires_at)
        else:
            if op.expect is not None:
                current = state[key] if key in state else stored.get(key)
                live = current is not None and (current.expires_at is None or current.expires_at > now)
                if not live or not matches(current, op.expect):
                    raise DocumentChanged(op.collection, op.doc_id)
            state[key] = None
    return state
