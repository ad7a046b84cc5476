"""The Virtuoso link, chosen once from the settings: the root's decision, so ``virtuoso/`` never knows
the sandbox exists.

Three modes, reported by ``/health/ready``:

- ``virtuoso``: requests go to ``VIRTUOSO_BASE_URL`` with ``VIRTUOSO_API_TOKEN`` when it is set, else
  with the token (and organization) of the ``virtuoso-api-key`` secret: always with
  ``USE_SECRET_MANAGER`` (read on first use, so a start while Secret Manager is down degrades instead
  of failing; ``serve`` reads it at once), and from the local encrypted store when it holds one.
- ``sandbox``: ``VIRTUOSO_SANDBOX`` (``serve --sandbox``); an in-process sandbox answers, reached
  through ``httpx.ASGITransport`` (no socket), and is also mounted at ``/sandbox`` for a look inside.
- ``unconfigured``: neither. The service runs, and the client raises the 503 that says what to set.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from virtuoso_api.config import Settings
from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs
from virtuoso_api.secrets import SecretsService, SecretType
from virtuoso_api.secrets.virtuoso_credentials import VirtuosoCredentials, VirtuosoCredentialsSource
from virtuoso_api.telemetry import active
from virtuoso_api.telemetry.virtuoso_calls import TracedTransport
from virtuoso_api.virtuoso import (
    Transport,
    VirtuosoClient,
    as_transport,
    build_virtuoso_http,
    virtuoso_remote,
)
from virtuoso_api.virtuoso.unconfigured import unconfigured_client

logger = logging.getLogger(__name__)

Mode = Literal["virtuoso", "sandbox", "unconfigured"]

# Readiness probes come every few seconds; Virtuoso need not hear from each of them.
_PING_MEMO_SECONDS = 15.0


@dataclass
class VirtuosoConnection:
    mode: Mode
    client: VirtuosoClient
    base_url: str
    #: The in-process sandbox's ASGI app, for the HTTP app to mount at /sandbox (sandbox mode only).
    sandbox_app: Any = None
    #: Where the token comes from when it is a secret (``None``: the environment, the sandbox, none).
    credentials: VirtuosoCredentialsSource | None = None
    _last_ping: float = field(default=-_PING_MEMO_SECONDS)

    def needs(self) -> Needs:
        """A server reads its credentials at start-up rather than on the first command."""
        return Needs(at_start=(self._read_credentials,) if self.credentials is not None else ())

    async def _read_credentials(self) -> None:
        assert self.credentials is not None
        try:
            credentials = await self.credentials.load()
        except VirtuosoApiError as exc:  # readiness says so too; each command tries again
            logger.warning("Virtuoso credentials not read at start-up: %s", exc.message)
            return
        logger.info("Virtuoso credentials from %s", credentials.source)

    async def ping(self) -> None:
        """A cheap authenticated read, at most every 15 s; raises when Virtuoso does not answer."""
        if time.monotonic() - self._last_ping < _PING_MEMO_SECONDS:
            return
        await self.client.list_projects(limit=1)
        self._last_ping = time.monotonic()


@asynccontextmanager
async def build_virtuoso(
    settings: Settings, *, clock: Clock, secrets: SecretsService | None = None
) -> AsyncIterator[VirtuosoConnection]:
    remote = virtuoso_remote(
        clock=clock,
        timeout_seconds=settings.virtuoso_timeout_seconds,
        attempts=settings.virtuoso_retry_attempts,
        cooldown_seconds=settings.breaker_cooldown_seconds,
    )
    http: Transport | httpx.AsyncClient
    if settings.virtuoso_sandbox:
        from virtuoso_api.sandbox import BASE_PATH, DEFAULT_TOKEN, SEED, create_sandbox_app

        # The service's clock, so executions progress when a test moves time on.
        app = create_sandbox_app(token=DEFAULT_TOKEN, clock=clock)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=f"http://sandbox{BASE_PATH}",
            timeout=settings.virtuoso_timeout_seconds,
        )
        org_id = settings.virtuoso_org_id or SEED.organization_id
        client = VirtuosoClient(_traced(http), token=DEFAULT_TOKEN, org_id=org_id, remote=remote)
        connection = VirtuosoConnection("sandbox", client, "/sandbox" + BASE_PATH, sandbox_app=app)
    elif settings.virtuoso_api_token is not None:
        base_url = str(settings.virtuoso_base_url).rstrip("/")
        http = build_virtuoso_http(base_url, timeout=settings.virtuoso_timeout_seconds)
        token = settings.virtuoso_api_token.get_secret_value()
        client = VirtuosoClient(_traced(http), token=token, org_id=settings.virtuoso_org_id, remote=remote)
        connection = VirtuosoConnection("virtuoso", client, base_url)
    elif secrets is not None and await _secret_expected(settings, secrets):
        base_url = str(settings.virtuoso_base_url).rstrip("/")
        http = build_virtuoso_http(base_url, timeout=settings.virtuoso_timeout_seconds)
        source = VirtuosoCredentialsSource(secrets, clock=clock)
        client = VirtuosoClient(_traced(http), token=source, org_id=settings.virtuoso_org_id, remote=remote)
        source.on_loaded = functools.partial(_use_org_id, client, settings)
        connection = VirtuosoConnection("virtuoso", client, base_url, credentials=source)
    else:
        client, http = unconfigured_client()
        connection = VirtuosoConnection("unconfigured", client, "")
    try:
        yield connection
    finally:
        await http.aclose()


def _traced(http: Transport | httpx.AsyncClient) -> Transport:
    """A span per Virtuoso call and the trace's ``traceparent`` sent with it, when telemetry is on."""
    transport = as_transport(http)
    return TracedTransport(transport) if active().enabled else transport


async def _secret_expected(settings: Settings, secrets: SecretsService) -> bool:
    """Whether Virtuoso's credentials are to come from the secret: always with Secret Manager (it is
    read on first use), and from the local store when it holds one (a local file read)."""
    if settings.use_secret_manager:
        return True
    return await secrets.find(secrets.ref(SecretType.VIRTUOSO_API_KEY)) is not None


def _use_org_id(client: VirtuosoClient, settings: Settings, credentials: VirtuosoCredentials) -> None:
    # VIRTUOSO_ORG_ID wins over the secret's, as VIRTUOSO_API_TOKEN wins over its token.
    if settings.virtuoso_org_id is None:
        client.org_id = credentials.org_id
