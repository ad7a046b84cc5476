"""The embedded documents store: one SQLite file in WAL mode.

Why not aiosqlite: it runs each statement on its connection's thread, so a read-modify-write (a patch,
a batch) would need an asyncio lock held across several awaits, and every statement pays a thread
hand-off. Here each operation is one plain function: writes go through a single connection behind a
lock (SQLite has one writer anyway), reads through a small pool of connections that WAL lets run
beside the writer. Operations on one document (get, create, put, patch, delete, a batch of such) run
on the event loop while the file is free; queries and purges, which may scan, and any operation that
finds the file locked by another process (the CLI beside a running server) run in a worker thread,
where ``BEGIN IMMEDIATE`` and the busy timeout make them wait their turn instead of failing
(:class:`~virtuoso_api.infra.sqlite_files.GuardedConnection`).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents._sqlite_schema import migrate
from virtuoso_api.infra.documents.port import (
    MAX_BATCH_OPERATIONS,
    UNSET,
    Document,
    DocumentAlreadyExists,
    DocumentChanged,
    DocumentNotFound,
    JsonObject,
    Op,
    Page,
    Patch,
    Put,
    Query,
    Remove,
    WriteOp,
    _Unset,
    check_collection,
    check_data,
    check_doc_id,
    decode_cursor,
    encode_cursor,
    matches,
)
from virtuoso_api.infra.sqlite_files import GuardedConnection, connect
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.files import private_dir, private_file
from virtuoso_api.kit.timestamps import as_utc, format_timestamp, parse_timestamp

T = TypeVar("T")

#: Batches up to this many operations run on the event loop (see the module's docstring).
_QUICK_BATCH = 16
_SQL_OPS = {Op.EQ: "=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


def _dump(data: JsonObject) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _path(field: str) -> str:
    return f'$."{field}"'


def _row_to_document(row: tuple[str, str, str | None]) -> Document:
    doc_id, data, expires_at = row
    return Document(doc_id, json.loads(data), parse_timestamp(expires_at) if expires_at else None)


class SqliteDocumentStore:
    """:class:`~virtuoso_api.infra.documents.port.DocumentStore` over one SQLite file."""

    def __init__(self, path: Path, *, clock: Clock, readers: int = 4) -> None:
        private_dir(path.parent)
        # SQLite gives the -wal and -shm files it creates the main file's mode; ones an older
        # version left readable are tightened too.
        for part in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))):
            if part == path or part.exists():
                private_file(part)
        self._path = path
        self._clock = clock
        writer = connect(path)
        try:
            migrate(writer)
        except BaseException:
            writer.close()
            raise
        self._writer = GuardedConnection(writer)
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[GuardedConnection] = asyncio.Queue()
        self._all = [self._writer]
        for _ in range(readers):
            reader = GuardedConnection(connect(path))
            self._readers.put_nowait(reader)
            self._all.append(reader)

    @property
    def backend(self) -> str:
        return "sqlite"

    @property
    def path(self) -> Path:
        return self._path

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def inline_calls(self) -> int:
        """Operations that ran on the event loop (the rest ran in worker threads)."""
        return sum(connection.inline_calls for connection in self._all)

    async def _read(self, work: Callable[[sqlite3.Connection], T], *, quick: bool = False) -> T:
        # A reader taken here goes back to the pool even when the caller is cancelled while its
        # function still runs in a thread: the connection's own lock makes the next user (and close)
        # wait for that thread.
        connection = await self._readers.get()
        try:
            return await self._guarded(connection.run(work, quick=quick))
        finally:
            self._readers.put_nowait(connection)

    async def _write(self, work: Callable[[sqlite3.Connection], T], *, quick: bool = True) -> T:
        async with self._write_lock:
            return await self._guarded(self._writer.run(work, write=True, quick=quick))

    @staticmethod
    async def _guarded(call: Awaitable[T]) -> T:
        try:
            return await call
        except sqlite3.IntegrityError:
            raise  # a bug of ours, not an outage
        except sqlite3.DatabaseError as exc:  # locked past the busy timeout, disk full, corrupt, closed
            raise BackendUnavailable("sqlite", str(exc)) from exc

    def _now(self) -> str:
        return format_timestamp(self._clock.now())

    def _live_row(
        self, connection: sqlite3.Connection, collection: str, doc_id: str
    ) -> tuple[str, str, str | None] | None:
        row: tuple[str, str, str | None] | None = connection.execute(
            "SELECT id, data, expires_at FROM documents WHERE collection = ? AND id = ? "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (collection, doc_id, self._now()),
        ).fetchone()
        return row

    @staticmethod
    def _expiry(value: datetime | None) -> str | None:
        return format_timestamp(value) if value is not None else None

    def _put_sync(self, connection: sqlite3.Connection, op: Put) -> Document:
        check_data(op.data)
        connection.execute(
            "INSERT OR REPLACE INTO documents (collection, id, data, expires_at) VALUES (?, ?, ?, ?)",
            (op.collection, op.doc_id, _dump(op.data), self._expiry(op.expires_at)),
        )
        return Document(op.doc_id, dict(op.data), as_utc(op.expires_at) if op.expires_at else None)

    def _patch_sync(self, connection: sqlite3.Connection, op: Patch) -> Document:
        row = self._live_row(connection, op.collection, op.doc_id)
        if row is None:
            raise DocumentNotFound(op.collection, op.doc_id)
        current = _row_to_document(row)
        check_data(op.changes)
        data = {**current.data, **op.changes}
        expires_at = current.expires_at if isinstance(op.expires_at, _Unset) else op.expires_at
        connection.execute(
            "UPDATE documents SET data = ?, expires_at = ? WHERE collection = ? AND id = ?",
            (_dump(data), self._expiry(expires_at), op.collection, op.doc_id),
        )
        return Document(op.doc_id, data, as_utc(expires_at) if expires_at else None)

    def _remove_sync(self, connection: sqlite3.Connection, op: Remove) -> bool:
        row = self._live_row(connection, op.collection, op.doc_id)
        live = row is not None
        if op.expect is not None and not matches(_row_to_document(row) if row else None, op.expect):
            raise DocumentChanged(op.collection, op.doc_id)  # the batch's transaction rolls back
        connection.execute(
            "DELETE FROM documents WHERE collection = ? AND id = ?", (op.collection, op.doc_id)
        )
        return live

    # -- the port ------------------------------------------------------------------------------

    async def get(self, collection: str, doc_id: str) -> Document | None:
        check_collection(collection)
        check_doc_id(doc_id)
        row = await self._read(lambda c: self._live_row(c, collection, doc_id), quick=True)
        return _row_to_document(row) if row else None

    async def create(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        op = Put(check_collection(collection), check_doc_id(doc_id), data, expires_at)

        def work(connection: sqlite3.Connection) -> Document:
            if self._live_row(connection, collection, doc_id) is not None:
                raise DocumentAlreadyExists(collection, doc_id)
            return self._put_sync(connection, op)

        return await self._write(work)

    async def put(
        self, collection: str, doc_id: str, data: JsonObject, *, expires_at: datetime | None = None
    ) -> Document:
        op = Put(check_collection(collection), check_doc_id(doc_id), data, expires_at)
        return await self._write(lambda c: self._put_sync(c, op))

    async def patch(
        self,
        collection: str,
        doc_id: str,
        changes: JsonObject,
        *,
        expires_at: datetime | None | _Unset = UNSET,
    ) -> Document:
        op = Patch(check_collection(collection), check_doc_id(doc_id), changes, expires_at)
        return await self._write(lambda c: self._patch_sync(c, op))

    async def delete(self, collection: str, doc_id: str) -> bool:
        op = Remove(check_collection(collection), check_doc_id(doc_id))
        return await self._write(lambda c: self._remove_sync(c, op))

    async def query(self, query: Query) -> Page:
        sql, params = self._select(query)

        def work(connection: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
            return connection.execute(sql, params).fetchall()

        rows = await self._read(work)
        documents = [_row_to_document(row) for row in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(documents, encode_cursor(query, documents[-1]) if more else None)

    def _select(self, query: Query) -> tuple[str, list[Any]]:
        where = ["collection = ?", "(expires_at IS NULL OR expires_at > ?)"]
        params: list[Any] = [query.collection, self._now()]
        for item in query.filters:
            where.append(f"json_extract(data, ?) {_SQL_OPS[item.op]} ?")
            params += [_path(item.field), item.value]
        direction, after = ("DESC", "<") if query.descending else ("ASC", ">")
        position = decode_cursor(query)
        if query.order_by is None:
            order_sql = f"id {direction}"
            if position is not None:
                where.append(f"id {after} ?")
                params.append(position[1])
        else:
            # Inlined, not bound: SQLite uses an expression index only for the same literal text.
            # Safe because Query checked the name is a bare identifier.
            key = f"json_extract(data, '{_path(query.order_by)}')"
            where.append(f"{key} IS NOT NULL")
            order_sql = f"{key} {direction}, id {direction}"
            if position is not None:
                where.append(f"({key} {after} ? OR ({key} = ? AND id {after} ?))")
                params += [position[0], position[0], position[1]]
        sql = (
            f"SELECT id, data, expires_at FROM documents WHERE {' AND '.join(where)} "
            f"ORDER BY {order_sql} LIMIT ?"
        )
        return sql, [*params, query.limit + 1]

    async def write_batch(self, operations: Sequence[WriteOp]) -> None:
        for op in operations:
            check_collection(op.collection)
            check_doc_id(op.doc_id)

        def work(connection: sqlite3.Connection) -> None:
            for op in operations:
                if isinstance(op, Put):
                    self._put_sync(connection, op)
                elif isinstance(op, Patch):
                    self._patch_sync(connection, op)
                else:
                    self._remove_sync(connection, op)

        if operations:
            # A batch of a few documents (a history entry with its in-flight record) is as quick as one.
            await self._write(work, quick=len(operations) <= _QUICK_BATCH)

    async def delete_expired(self, collection: str, *, limit: int = MAX_BATCH_OPERATIONS) -> int:
        check_collection(collection)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")

        def work(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                "DELETE FROM documents WHERE collection = ? AND id IN (SELECT id FROM documents "
                "WHERE collection = ? AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
                (collection, collection, self._now(), limit),
            )
            return cursor.rowcount

        return await self._write(work, quick=False)  # up to `limit` rows: may take a while

    async def ping(self) -> None:
        await self._read(lambda c: c.execute("SELECT 1").fetchone(), quick=True)

    async def close(self) -> None:
        async with self._write_lock:
            # Reads in flight finish first, and each connection's close waits for a thread still
            # using it (a caller cancelled mid-read): closing a connection another thread is using
            # crashes the process (background consumers read while a test or a shutdown closes the
            # store).
            readers = [await self._readers.get() for _ in self._all[1:]]
            for connection in self._all:
                await connection.close()
            for reader in readers:  # closed: a later read fails as "unavailable" instead of waiting
                self._readers.put_nowait(reader)
            self._all.clear()
