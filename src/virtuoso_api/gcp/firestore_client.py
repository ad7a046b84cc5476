"""``firestore_client``: sessions, API keys, command history and a cache, as the seed promised.

A thin facade over the same services the HTTP API uses, so a session created here is the session the
API answers for, and the rules (sliding expiry, hashed keys, history filters) are the same. Results are
plain dicts (JSON-ready), as in the seed's examples::

    from virtuoso_api.gcp import get_firestore_client

    firestore = get_firestore_client()
    session = await firestore.create_session(
        session_id="unique-id", user_id="user-123", checkpoint_id="cp_456"
    )
    await firestore.update_session(session_id="unique-id", checkpoint_id="cp_789")
    session = await firestore.get_session("unique-id")

The backend follows ``USE_FIRESTORE``: Firestore when on, the embedded SQLite store when off. The
client opens its store on first use and keeps it until :meth:`FirestoreClient.close`; use it from one
event loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from virtuoso_api.api_keys.models import ApiKeyCreate, ApiKeyView, Scope
from virtuoso_api.errors import NotFound, Unauthorized
from virtuoso_api.gcp._facade import OnePerProcess, ServicesClient
from virtuoso_api.history.models import HistoryFilters, Source
from virtuoso_api.infra.documents import MAX_BATCH_OPERATIONS, Patch, Put, Remove, WriteOp
from virtuoso_api.virtuoso.ids import parse_checkpoint_id

__all__ = ["FirestoreClient", "Patch", "Put", "Remove", "close_firestore_client", "get_firestore_client"]

JsonDict = dict[str, Any]


class FirestoreClient(ServicesClient):
    @property
    def backend(self) -> str:
        """``firestore`` or ``sqlite``: where the data goes (known without opening anything)."""
        return "firestore" if self.settings.use_firestore else "sqlite"

    # -- sessions --------------------------------------------------------------------------------

    async def create_session(
        self,
        session_id: str,
        user_id: str,
        checkpoint_id: int | str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> JsonDict:
        """Create a session (``checkpoint_id`` as ``456`` or ``"cp_456"``); a taken id raises Conflict."""
        services = await self._open()
        session = await services.sessions.create(
            user_id,
            checkpoint_id=None if checkpoint_id is None else parse_checkpoint_id(checkpoint_id),
            metadata=dict(metadata or {}),
            session_id=session_id,
        )
        return session.model_dump(mode="json")

    async def get_session(self, session_id: str) -> JsonDict | None:
        """The session (its expiry slid forward), or ``None`` if it does not exist or has expired."""
        services = await self._open()
        found = await services.sessions.find(session_id)
        if found is None:
            return None
        return (await services.sessions.get(found.user_id, session_id)).model_dump(mode="json")

    async def update_session(
        self,
        session_id: str,
        checkpoint_id: int | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        extend_expiry: bool = True,
    ) -> JsonDict | None:
        """Change the checkpoint and/or metadata; ``None`` if the session is gone."""
        services = await self._open()
        found = await services.sessions.find(session_id)
        if found is None:
            return None
        changes: JsonDict = {}
        if checkpoint_id is not None:
            changes["checkpoint_id"] = parse_checkpoint_id(checkpoint_id)
        if metadata is not None:
            changes["metadata"] = dict(metadata)
        updated = await services.sessions.update(
            found.user_id, session_id, changes=changes, extend_expiry=extend_expiry
        )
        return updated.model_dump(mode="json")

    async def delete_session(self, session_id: str) -> bool:
        services = await self._open()
        found = await services.sessions.find(session_id)
        if found is None:
            return False
        await services.sessions.delete(found.user_id, session_id)
        return True

    async def list_user_sessions(self, user_id: str, active_only: bool = True) -> list[JsonDict]:  # noqa: ARG002
        """A user's sessions, newest first. Expired ones are gone, so ``active_only`` changes nothing."""
        services = await self._open()
        return [session.model_dump(mode="json") for session in await services.sessions.list(user_id)]

    # -- API keys --------------------------------------------------------------------------------

    async def create_api_key(
        self,
        user_id: str,
        api_key: str | None = None,
        *,
        name: str | None = None,
        permissions: Sequence[str] | None = None,
        tenant_id: str | None = None,
        expires_in_days: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> JsonDict:
        """Store a key (``api_key``, or a new one) for ``user_id``; the answer holds the key once.

        ``permissions`` are scopes: ``read``, ``write``, ``admin`` (default read and write)."""
        services = await self._open()
        extra = {**(metadata or {}), **({"tenant_id": tenant_id} if tenant_id else {})}
        request = ApiKeyCreate(
            name=name or user_id,
            user_id=user_id,
            scopes=[Scope(p) for p in permissions] if permissions else [Scope.READ, Scope.WRITE],
            expires_in_days=expires_in_days,
            metadata=extra,
        )
        key, record = await services.api_keys.create(request, key=api_key)
        return {**ApiKeyView.of(record).model_dump(mode="json"), "key": key}

    async def validate_api_key(self, api_key: str) -> JsonDict | None:
        """``{key_id, user_id, name, scopes}`` for a valid key; ``None`` if unknown, revoked or expired."""
        services = await self._open()
        try:
            principal = await services.api_keys.authenticate(api_key)
        except Unauthorized:
            return None
        return {
            **principal.model_dump(mode="json"),
            "scopes": sorted(scope.value for scope in principal.scopes),
        }

    async def revoke_api_key(self, key_id: str) -> bool:
        """Revoke by key id (as listed); ``False`` if there is no such key."""
        services = await self._open()
        try:
            await services.api_keys.revoke(key_id)
        except NotFound:
            return False
        return True

    async def list_api_keys(self, user_id: str | None = None) -> list[JsonDict]:
        services = await self._open()
        return [
            ApiKeyView.of(key).model_dump(mode="json")
            for key in await services.api_keys.list(user_id=user_id)
        ]

    # -- command history -------------------------------------------------------------------------

    async def log_command(
        self,
        user_id: str,
        command: str,
        args: Sequence[str],
        checkpoint_id: int | str | None = None,
        session_id: str | None = None,
        result: Mapping[str, Any] | None = None,
        error: str | Mapping[str, Any] | None = None,
        duration_ms: float | None = None,
    ) -> str:
        """Record a command; ``success`` is ``error is None``. Returns the entry id."""
        services = await self._open()
        entry = await services.history.record(
            user_id=user_id,
            command=command,
            args=args,
            success=error is None,
            session_id=session_id,
            checkpoint_id=None if checkpoint_id is None else parse_checkpoint_id(checkpoint_id),
            result=None if result is None else dict(result),
            error=None if error is None else ({"message": error} if isinstance(error, str) else dict(error)),
            duration_ms=duration_ms,
            source=Source.FACADE,
        )
        return entry.entry_id

    async def get_command_history(
        self, filters: Mapping[str, Any] | None = None, limit: int = 100, cursor: str | None = None
    ) -> JsonDict:
        """``{entries, next_cursor}``, newest first. ``filters``: user_id, checkpoint_id, session_id,
        command, success, since (a datetime)."""
        services = await self._open()
        given = dict(filters or {})
        if given.get("checkpoint_id") is not None:
            given["checkpoint_id"] = parse_checkpoint_id(given["checkpoint_id"])
        page = await services.history.query(HistoryFilters(**given), limit=limit, cursor=cursor)
        return page.model_dump(mode="json")

    # -- cache -----------------------------------------------------------------------------------

    async def cache_get(self, key: str) -> Any | None:
        return await (await self._open()).cache.get(key)

    async def cache_set(self, key: str, value: Any, ttl_seconds: int | None = None) -> bool:
        return await (await self._open()).cache.set(key, value, ttl_seconds=ttl_seconds)

    async def cache_delete(self, key: str) -> bool:
        return await (await self._open()).cache.delete(key)

    async def cache_clear(self, prefix: str = "") -> int:
        return await (await self._open()).cache.clear(prefix)

    # -- maintenance -----------------------------------------------------------------------------

    async def cleanup_expired_data(self) -> dict[str, int]:
        """Delete expired sessions, cache entries and idempotency records; counts per collection."""
        return await (await self._open()).cleanup_expired()

    async def read_document(self, collection: str, doc_id: str) -> JsonDict | None:
        """A document written with :meth:`write_batch` (``None`` if absent or expired)."""
        document = await (await self._open()).documents.get(collection, doc_id)
        return None if document is None else document.data

    async def write_batch(self, operations: Sequence[WriteOp]) -> int:
        """Apply ``Put``/``Patch``/``Remove`` operations in batches of at most 500; returns how many."""
        services = await self._open()
        for start in range(0, len(operations), MAX_BATCH_OPERATIONS):
            await services.documents.write_batch(operations[start : start + MAX_BATCH_OPERATIONS])
        return len(operations)


_process_client = OnePerProcess(FirestoreClient)


def get_firestore_client() -> FirestoreClient:
    """The process's client, built on first call from the environment (``Settings``)."""
    return _process_client.get()


async def close_firestore_client() -> None:
    """Close the process's client (if any) and forget it; the next getter call builds a new one."""
    await _process_client.close()
