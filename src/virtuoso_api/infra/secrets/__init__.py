"""The secrets capability: port, the local encrypted file, and the factory that picks a store."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.secrets.local import LocalSecretStore
from virtuoso_api.infra.secrets.local_key import KeySource
from virtuoso_api.infra.secrets.port import (
    LATEST,
    MAX_PAYLOAD_BYTES,
    AccessedVersion,
    SecretAccessDenied,
    SecretAlreadyExists,
    SecretNotFound,
    SecretStore,
    SecretUnreadable,
    SecretVersionUnavailable,
    VersionInfo,
    VersionRef,
    VersionState,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.redact import register_secret
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget

__all__ = [
    "LATEST",
    "MAX_PAYLOAD_BYTES",
    "AccessedVersion",
    "SecretAccessDenied",
    "SecretAlreadyExists",
    "SecretNotFound",
    "SecretStore",
    "SecretUnreadable",
    "SecretVersionUnavailable",
    "VersionInfo",
    "VersionRef",
    "VersionState",
    "build_secrets",
    "check_secrets",
    "local_store",
]


def local_store(settings: Settings, *, clock: Clock) -> LocalSecretStore:
    """The encrypted file ``DATA_DIR/secrets.json``, keyed by ``SECRETS_ENCRYPTION_KEY`` or
    ``DATA_DIR/secrets.key``."""
    setting = settings.secrets_encryption_key
    if setting is not None:
        register_secret(setting.get_secret_value())
    key = KeySource(
        settings.data_dir / "secrets.key", None if setting is None else setting.get_secret_value()
    )
    return LocalSecretStore(settings.data_dir / "secrets.json", key=key, clock=clock)


def check_secrets(settings: Settings, *, clock: Clock) -> None:
    """Raise :class:`Misconfigured` if the secrets store cannot be used as configured: the Google
    libraries missing, or a local file the key cannot open. Called before start-up too, so ``serve``
    refuses in one line instead of failing in its lifespan."""
    if settings.use_secret_manager:
        try:
            importlib.import_module("google.cloud.secretmanager_v1")
        except ImportError as exc:
            raise Misconfigured(
                "USE_SECRET_MANAGER is on but the Google Cloud libraries are missing: "
                "pip install 'virtuoso-api[gcp]'"
            ) from exc
        return
    local_store(settings, clock=clock).open()


@asynccontextmanager
async def build_secrets(settings: Settings, *, clock: Clock) -> AsyncIterator[SecretStore]:
    """Secret Manager with ``USE_SECRET_MANAGER`` (every call through the resilience kit with the
    ``REMOTE_*`` budget and ``BREAKER_COOLDOWN_SECONDS``), else the local encrypted file, whose key is
    checked here. Building the Secret Manager store contacts nothing; closed on exit."""
    check_secrets(settings, clock=clock)
    store: SecretStore
    if settings.use_secret_manager:
        # Imported here: the google libraries are the optional ``gcp`` extra.
        from virtuoso_api.infra.secrets.gcp import BACKEND, SecretManagerStore

        remote = RemoteCall(
            BACKEND,
            budget=RetryBudget(
                deadline_seconds=settings.remote_retry_deadline_seconds,
                attempt_seconds=settings.remote_attempt_timeout_seconds,
            ),
            breaker=CircuitBreaker(
                BACKEND, clock=clock, cooldown=timedelta(seconds=settings.breaker_cooldown_seconds)
            ),
        )
        store = SecretManagerStore.from_settings(settings, remote=remote)
    else:
        store = local_store(settings, clock=clock)
    try:
        yield store
    finally:
        await store.close()
