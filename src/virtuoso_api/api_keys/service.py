"""Creating, checking and revoking API keys, over the documents port."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

from virtuoso_api.api_keys.models import (
    COLLECTION,
    ApiKey,
    ApiKeyCreate,
    Principal,
    Scope,
    effective_scopes,
)
from virtuoso_api.errors import BackendUnavailable, Conflict, NotFound, Unauthorized
from virtuoso_api.events import EventPublisher, EventType
from virtuoso_api.infra.documents import (
    DocumentAlreadyExists,
    DocumentNotFound,
    DocumentStore,
    Query,
    is_valid_doc_id,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.kit.recent import RecentValues
from virtuoso_api.kit.timestamps import format_timestamp

logger = logging.getLogger(__name__)

KEY_PREFIX = "vk_"
_SHOWN_CHARACTERS = 10
# While the store is down, a key validated this recently is still accepted (then 503).
_OUTAGE_GRACE = timedelta(minutes=5)


def hash_key(key: str) -> str:
    # SHA-256 without salt is right for keys: they carry 256 random bits, so there is nothing to
    # brute-force, and an unsalted hash lets a key be found by its hash alone.
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_for(key_hash: str) -> str:
    return "key_" + key_hash[:20]


def _user_id_from_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._@+-]+", "-", name).strip("-.")
    return slug[:128] or "user"


class ApiKeyService:
    def __init__(
        self, store: DocumentStore, *, clock: Clock, cache_seconds: int, events: EventPublisher
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self._cache_for = timedelta(seconds=cache_seconds)
        self._validated: RecentValues[str, ApiKey] = RecentValues(clock)
        self._last_used: dict[str, datetime] = {}

    def needs(self, *, flush_every_seconds: float) -> Needs:
        # Use times are noted in memory; written every so often and once more at shutdown.
        job = PeriodicJob("write API key use times", flush_every_seconds, self.flush_last_used)
        return Needs(periodic=(job,), at_shutdown=(self.flush_last_used,))

    async def create(self, request: ApiKeyCreate, *, key: str | None = None) -> tuple[str, ApiKey]:
        """Store a new key; returns the key (shown once) and its record.

        ``key`` lets a caller bring its own key (the seed's ``create_api_key(user_id, api_key)``);
        otherwise one is generated."""
        key = key or KEY_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        key_hash = hash_key(key)
        record = ApiKey(
            key_id=key_id_for(key_hash),
            key_hash=key_hash,
            prefix=key[:_SHOWN_CHARACTERS],
            name=request.name,
            user_id=request.user_id or _user_id_from_name(request.name),
            scopes=sorted(set(request.scopes), key=list(Scope).index),
            created_at=now,
            valid_until=now + timedelta(days=request.expires_in_days) if request.expires_in_days else None,
            metadata=request.metadata,
        )
        try:
            await self._store.create(COLLECTION, record.key_id, record.model_dump(mode="json"))
        except DocumentAlreadyExists as exc:
            raise Conflict("an API key with this value already exists") from exc
        await self._announce(EventType.API_KEY_CREATED, record)
        return key, record

    async def list(self, *, user_id: str | None = None) -> list[ApiKey]:
        """Every key (of one user, if given), newest first, revoked and expired ones included."""
        keys: list[ApiKey] = []
        cursor: str | None = None
        while True:
            page = await self._store.query(
                Query(COLLECTION, order_by="created_at", descending=True, limit=500, cursor=cursor)
            )
            keys += [ApiKey.model_validate(doc.data) for doc in page.documents]
            cursor = page.next_cursor
            if cursor is None:
                break
        return [key for key in keys if user_id is None or key.user_id == user_id]

    async def get(self, key_id: str) -> ApiKey:
        known_shape = key_id.startswith("key_") and is_valid_doc_id(key_id)
        document = await self._store.get(COLLECTION, key_id) if known_shape else None
        if document is None:
            raise NotFound(f"API key {key_id} does not exist")
        return ApiKey.model_validate(document.data)

    async def revoke(self, key_id: str) -> ApiKey:
        current = await self.get(key_id)
        if current.revoked_at is not None:
            return current
        try:
            document = await self._store.patch(
                COLLECTION, key_id, {"revoked_at": format_timestamp(self._clock.now())}
            )
        except DocumentNotFound as exc:
            raise NotFound(f"API key {key_id} does not exist") from exc
        revoked = ApiKey.model_validate(document.data)
        self._validated.discard(revoked.key_hash)
        await self._announce(EventType.API_KEY_REVOKED, revoked)
        return revoked

    async def _announce(self, kind: EventType, record: ApiKey) -> None:
        # The key's id, name and shown prefix only: never its value or hash.
        data = {
            "key_id": record.key_id,
            "name": record.name,
            "user_id": record.user_id,
            "scopes": [scope.value for scope in record.scopes],
            "prefix": record.prefix,
        }
        await self._events.publish_or_log(
            kind, data, owner=record.user_id, subject=f"api_key/{record.key_id}"
        )

    async def authenticate(self, key: str | None) -> Principal:
        """The caller a key belongs to; :class:`Unauthorized` for a missing, unknown, revoked or
        expired key. Stored hashes are compared in constant time."""
        if not key:
            raise Unauthorized("an API key is required in the X-API-Key header")
        key_hash = hash_key(key)
        record = await self._lookup(key_hash)
        if record is None or not hmac.compare_digest(record.key_hash, key_hash):
            raise Unauthorized("the API key is not valid")
        now = self._clock.now()
        if record.revoked_at is not None:
            raise Unauthorized("the API key has been revoked")
        if record.valid_until is not None and record.valid_until <= now:
            raise Unauthorized("the API key has expired")
        self._last_used[record.key_id] = now
        return Principal(
            key_id=record.key_id,
            user_id=record.user_id,
            name=record.name,
            scopes=effective_scopes(record.scopes),
        )

    async def _lookup(self, key_hash: str) -> ApiKey | None:
        cached = self._validated.get(key_hash, max_age=self._cache_for)
        if cached is not None:
            return cached
        try:
            document = await self._store.get(COLLECTION, key_id_for(key_hash))
        except BackendUnavailable:
            stale = self._validated.get(key_hash, max_age=_OUTAGE_GRACE)
            if stale is None:
                raise
            return stale
        if document is None:
            return None
        record = ApiKey.model_validate(document.data)
        self._validated.put(key_hash, record)
        return record

    async def flush_last_used(self) -> int:
        """Write the last-used times noted since the previous flush; returns how many were written.

        Requests only note the time in memory, so checking a key never waits on a write."""
        pending, self._last_used = self._last_used, {}
        written = 0
        for key_id, when in pending.items():
            try:
                await self._store.patch(COLLECTION, key_id, {"last_used_at": format_timestamp(when)})
                written += 1
            except DocumentNotFound:
                continue
            except BackendUnavailable:
                # Keep the newest time for the next flush rather than lose it.
                for later_id, later in pending.items():
                    self._last_used.setdefault(later_id, later)
                logger.warning("could not record API key use; will retry")
                break
        return written
