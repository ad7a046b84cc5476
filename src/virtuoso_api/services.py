"""Everything the lifespan builds once: capabilities (ports) and the domain services over them.

The HTTP app, the CLI and (later) the Python facade all start the same :class:`Services`, so a key
made with ``virtuoso-api keys create`` is the key the server checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from virtuoso_api.api_keys.service import ApiKeyService
from virtuoso_api.cache.service import CacheService
from virtuoso_api.commands.service import CommandService
from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.history.service import DirectWriter, HistoryService, Writer
from virtuoso_api.idempotency.service import IdempotencyService
from virtuoso_api.infra.documents import DocumentStore, build_document_store
from virtuoso_api.infra.documents.breaker import CircuitBreakingStore
from virtuoso_api.infra.documents.outbox import Outbox, OutboxWriter
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import Clock, SystemClock
from virtuoso_api.sessions.service import SessionService
from virtuoso_api.virtuoso.link import VirtuosoLink

logger = logging.getLogger(__name__)

#: Collections whose documents carry an expiry.
EXPIRING_COLLECTIONS = ("sessions", "cache", "idempotency")
_CLEANUP_EVERY_SECONDS = 600
_OUTBOX_FLUSH_SECONDS = 5


def _history_writer(
    settings: Settings, documents: DocumentStore, clock: Clock
) -> tuple[DocumentStore | None, Writer]:
    """History goes straight to a local store; to a remote one through an outbox in a local SQLite
    file, so commands keep being recorded (and none is lost) while Firestore is unreachable."""
    if documents.backend == "sqlite":
        return None, DirectWriter(documents)
    local = SqliteDocumentStore(settings.data_dir / "outbox.sqlite3", clock=clock)
    return local, OutboxWriter(documents, Outbox(local, clock=clock))


@dataclass
class Services:
    settings: Settings
    clock: Clock
    documents: DocumentStore
    api_keys: ApiKeyService
    sessions: SessionService
    history: HistoryService
    idempotency: IdempotencyService
    cache: CacheService
    virtuoso: VirtuosoLink
    commands: CommandService
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, settings: Settings, *, clock: Clock | None = None, background: bool = False
    ) -> AsyncIterator[Services]:
        """Build every capability, yield, then flush and close them.

        ``background`` starts the periodic jobs a server needs (flushing API-key use times); a CLI
        command that runs once does without them."""
        clock = clock or SystemClock()
        documents = await build_document_store(settings, clock=clock)
        if documents.backend != "sqlite":
            documents = CircuitBreakingStore(documents, clock=clock)
        local, writer = _history_writer(settings, documents, clock)
        sessions = SessionService(documents, clock=clock, ttl_seconds=settings.session_ttl_seconds)
        history = HistoryService(documents, clock=clock, writer=writer)
        virtuoso = VirtuosoLink.from_settings(settings, clock=clock)
        services = cls(
            settings=settings,
            clock=clock,
            documents=documents,
            api_keys=ApiKeyService(documents, clock=clock, cache_seconds=settings.api_key_cache_seconds),
            sessions=sessions,
            history=history,
            idempotency=IdempotencyService(documents, clock=clock),
            cache=CacheService(documents, clock=clock, default_ttl_seconds=settings.cache_ttl_seconds),
            virtuoso=virtuoso,
            commands=CommandService(virtuoso=virtuoso, sessions=sessions, history=history),
        )
        if background:
            services._every(settings.api_key_last_used_flush_seconds, services.api_keys.flush_last_used)
            services._every(_CLEANUP_EVERY_SECONDS, services.cleanup_expired)
            services._every(_OUTBOX_FLUSH_SECONDS, writer.flush)
        try:
            yield services
        finally:
            for task in services._background:
                task.cancel()
            await asyncio.gather(*services._background, return_exceptions=True)
            await services.api_keys.flush_last_used()
            with contextlib.suppress(BackendUnavailable):  # what is left waits in the outbox file
                await writer.flush()
            await services.virtuoso.close()
            await documents.close()
            if local is not None:
                await local.close()

    async def cleanup_expired(self) -> dict[str, int]:
        """Delete expired sessions, cache entries and idempotency records; counts per collection.

        Expired documents already read as absent; this reclaims their space (Firestore's TTL policy
        does the same on its own, see README)."""
        removed: dict[str, int] = {}
        for collection in EXPIRING_COLLECTIONS:
            total = 0
            while (count := await self.documents.delete_expired(collection)) > 0:
                total += count
            removed[collection] = total
        return removed

    def _every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await job()
                except Exception:  # a periodic job must outlive one bad round
                    logger.exception("background job %s failed", getattr(job, "__qualname__", job))

        self._background.append(asyncio.create_task(loop()))
