"""The secrets domain over the store the settings pick: for the root, the CLI's ``secrets`` commands and
the facade, which need nothing else of the service (no documents store, no Virtuoso).

``announce=True`` also opens the outbox and the events bus, so a rotation made from the command line
or the facade publishes its ``secret.rotated`` event as one made by the server does (the root gives
its own publisher instead). What the bus did not take at once waits in the outbox for the server's
flush.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.events import EventPublisher
from virtuoso_api.infra.events import build_events
from virtuoso_api.infra.outbox import build_outbox
from virtuoso_api.infra.secrets import build_secrets
from virtuoso_api.kit.clock import Clock
from virtuoso_api.secrets import SecretsService


@asynccontextmanager
async def build_secrets_service(
    settings: Settings, *, clock: Clock, announce: bool = False
) -> AsyncIterator[SecretsService]:
    async with build_secrets(settings, clock=clock) as store:
        service = SecretsService(
            store,
            clock=clock,
            environment=settings.environment.value,
            cache_ttl=timedelta(seconds=settings.secret_cache_ttl_seconds),
            stale_grace=timedelta(seconds=settings.secret_stale_grace_seconds),
            rotation_grace=timedelta(seconds=settings.secret_rotation_grace_seconds),
            versions_kept=settings.secret_versions_kept,
        )
        if not announce:
            yield service
            return
        async with (
            build_outbox(settings, clock=clock) as outbox,
            build_events(settings, clock=clock) as events,
        ):
            service.announce_to(EventPublisher(events.bus, outbox, clock=clock))
            try:
                yield service
            finally:
                with contextlib.suppress(BackendUnavailable):  # what is left waits in the outbox file
                    await outbox.flush()
