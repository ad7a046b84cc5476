"""The secrets domain over the store the settings pick: for the root, the CLI's ``secrets`` commands and
the facade, which need nothing else of the service (no documents store, no Virtuoso)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from virtuoso_api.config import Settings
from virtuoso_api.infra.secrets import build_secrets
from virtuoso_api.kit.clock import Clock
from virtuoso_api.secrets import SecretsService


@asynccontextmanager
async def build_secrets_service(settings: Settings, *, clock: Clock) -> AsyncIterator[SecretsService]:
    async with build_secrets(settings, clock=clock) as store:
        yield SecretsService(
            store,
            clock=clock,
            environment=settings.environment.value,
            cache_ttl=timedelta(seconds=settings.secret_cache_ttl_seconds),
            stale_grace=timedelta(seconds=settings.secret_stale_grace_seconds),
            rotation_grace=timedelta(seconds=settings.secret_rotation_grace_seconds),
            versions_kept=settings.secret_versions_kept,
        )
