"""Sessions over the documents port, with a sliding expiry.

Each use of a session pushes its expiry to ``now + SESSION_TTL_SECONDS``. To keep reads cheap, the
new expiry is written only when it moves by more than a tenth of the TTL (at most a minute), so a
session read many times a second costs one write a minute, not one per read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from virtuoso_api.errors import Conflict, NotFound
from virtuoso_api.events import EventPublisher, EventType
from virtuoso_api.infra.documents import (
    UNSET,
    Document,
    DocumentAlreadyExists,
    DocumentNotFound,
    DocumentStore,
    Filter,
    Op,
    Put,
    Query,
    Remove,
    is_valid_doc_id,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.ids import new_id
from virtuoso_api.kit.lifecycle import Needs
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.sessions.models import ACTIVE_SESSIONS, SESSIONS, Session, SessionView


class SessionService:
    def __init__(
        self, store: DocumentStore, *, clock: Clock, ttl_seconds: int, events: EventPublisher
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._touch_after = min(timedelta(minutes=1), self._ttl / 10)

    def needs(self) -> Needs:
        return Needs(expiring_collections=(SESSIONS,))

    def _expiry(self) -> datetime:
        return self._clock.now() + self._ttl

    async def create(
        self,
        user_id: str,
        *,
        checkpoint_id: int | None,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
        activate: bool = False,
    ) -> SessionView:
        now = self._clock.now()
        session = Session(
            session_id=session_id or new_id("sess"),
            user_id=user_id,
            checkpoint_id=checkpoint_id,
            name=name,
            metadata=metadata or {},
            created_at=now,
            updated_at=now,
        )
        expires_at = self._expiry()
        try:
            await self._store.create(
                SESSIONS, session.session_id, session.model_dump(mode="json"), expires_at=expires_at
            )
        except DocumentAlreadyExists as exc:
            raise Conflict(f"session {session.session_id} already exists") from exc
        if activate:
            await self._set_active(user_id, session.session_id)
        await self._announce(EventType.SESSION_CREATED, session)
        return SessionView(**session.model_dump(), expires_at=expires_at, active=activate)

    async def find(self, session_id: str) -> Session | None:
        """A session by id alone, for trusted in-process callers (the facade); no expiry slide."""
        document = await self._store.get(SESSIONS, session_id) if is_valid_doc_id(session_id) else None
        return None if document is None else Session.model_validate(document.data)

    async def get(self, user_id: str, session_id: str) -> SessionView:
        """The caller's session, its expiry slid forward. Someone else's reads as not found."""
        document = await self._owned(user_id, session_id)
        return await self._view(user_id, await self._touch(document))

    async def update(
        self,
        user_id: str,
        session_id: str,
        *,
        changes: dict[str, Any],
        extend_expiry: bool = True,
    ) -> SessionView:
        """Set the given fields (``checkpoint_id``, ``name``, ``metadata``) and slide the expiry."""
        await self._owned(user_id, session_id)
        changes = {**changes, "updated_at": format_timestamp(self._clock.now())}
        try:
            document = await self._store.patch(
                SESSIONS, session_id, changes, expires_at=self._expiry() if extend_expiry else UNSET
            )
        except DocumentNotFound as exc:
            raise _not_found(session_id) from exc
        return await self._view(user_id, document)

    async def delete(self, user_id: str, session_id: str) -> None:
        document = await self._owned(user_id, session_id)
        operations: list[Put | Remove] = [Remove(SESSIONS, session_id)]
        if await self._active_id(user_id) == session_id:
            operations.append(Remove(ACTIVE_SESSIONS, user_id))
        await self._store.write_batch(operations)
        await self._announce(EventType.SESSION_ENDED, Session.model_validate(document.data), reason="deleted")

    async def _announce(self, kind: EventType, session: Session, **extra: str) -> None:
        data = {
            "session_id": session.session_id,
            "checkpoint_id": session.checkpoint_id,
            "name": session.name,
        }
        subject = f"session/{session.session_id}"
        await self._events.publish_or_log(kind, {**data, **extra}, owner=session.user_id, subject=subject)

    async def list(self, user_id: str) -> list[SessionView]:
        """The caller's live sessions, newest first."""
        documents: list[Document] = []
        cursor: str | None = None
        while True:
            page = await self._store.query(
                Query(
                    SESSIONS,
                    filters=(Filter("user_id", Op.EQ, user_id),),
                    order_by="created_at",
                    descending=True,
                    limit=200,
                    cursor=cursor,
                )
            )
            documents += page.documents
            if (cursor := page.next_cursor) is None:
                break
        active = await self._active_id(user_id)
        return [_as_view(doc, active=doc.id == active) for doc in documents]

    async def activate(self, user_id: str, session_id: str) -> SessionView:
        document = await self._touch(await self._owned(user_id, session_id))
        await self._set_active(user_id, session_id)
        return _as_view(document, active=True)

    async def current(self, user_id: str) -> SessionView | None:
        """The caller's active session (its expiry slid forward), or ``None``."""
        session_id = await self._active_id(user_id)
        if session_id is None:
            return None
        document = await self._store.get(SESSIONS, session_id)
        if document is None:
            return None
        return _as_view(await self._touch(document), active=True)

    # -- helpers -------------------------------------------------------------------------------

    async def _owned(self, user_id: str, session_id: str) -> Document:
        document = await self._store.get(SESSIONS, session_id) if is_valid_doc_id(session_id) else None
        if document is None or document.data.get("user_id") != user_id:
            raise _not_found(session_id)
        return document

    async def _touch(self, document: Document) -> Document:
        expires_at = self._expiry()
        if document.expires_at is not None and expires_at - document.expires_at < self._touch_after:
            return document
        try:
            return await self._store.patch(SESSIONS, document.id, {}, expires_at=expires_at)
        except DocumentNotFound as exc:
            raise _not_found(document.id) from exc

    async def _set_active(self, user_id: str, session_id: str) -> None:
        # The pointer does not expire by itself: the session it names does, and a pointer to an
        # expired session reads as "no active session".
        await self._store.put(ACTIVE_SESSIONS, user_id, {"session_id": session_id})

    async def _active_id(self, user_id: str) -> str | None:
        document = await self._store.get(ACTIVE_SESSIONS, user_id)
        return None if document is None else str(document.data["session_id"])

    async def _view(self, user_id: str, document: Document) -> SessionView:
        return _as_view(document, active=await self._active_id(user_id) == document.id)


def _as_view(document: Document, *, active: bool) -> SessionView:
    assert document.expires_at is not None  # every session is stored with an expiry
    return SessionView(**document.data, expires_at=document.expires_at, active=active)


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"session {session_id} does not exist or has expired")
