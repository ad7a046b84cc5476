"""The service's connection to Virtuoso, chosen once from the settings.

Three modes, reported by ``/health/ready``:

- ``virtuoso``: ``VIRTUOSO_API_TOKEN`` is set; requests go to ``VIRTUOSO_BASE_URL``.
- ``sandbox``: ``VIRTUOSO_SANDBOX`` (``serve --sandbox``); an in-process sandbox answers, reached
  through ``httpx.ASGITransport`` (no socket), and is also mounted at ``/sandbox`` for a look inside.
- ``unconfigured``: neither. The service runs, but anything that needs Virtuoso answers 503 saying
  what to set. It never falls back to the sandbox by itself: a step that went to a stand-in must not
  look like a step in Virtuoso.
"""

from __future__ import annotations

import time
from typing import Literal

import httpx
from fastapi import FastAPI

from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.kit.clock import Clock
from virtuoso_api.sandbox import BASE_PATH, DEFAULT_TOKEN, SEED, create_sandbox_app
from virtuoso_api.virtuoso._http import build_virtuoso_http
from virtuoso_api.virtuoso.client import VirtuosoClient

Mode = Literal["virtuoso", "sandbox", "unconfigured"]

# Readiness probes come every few seconds; Virtuoso need not hear from each of them.
_PING_MEMO_SECONDS = 15.0


class VirtuosoNotConfigured(BackendUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "virtuoso",
            "not configured: set VIRTUOSO_API_TOKEN (and VIRTUOSO_BASE_URL), or start with --sandbox",
        )


class VirtuosoLink:
    def __init__(
        self,
        mode: Mode,
        *,
        http: httpx.AsyncClient | None,
        client: VirtuosoClient | None,
        sandbox_app: FastAPI | None = None,
        base_url: str = "",
    ) -> None:
        self.mode: Mode = mode
        self.base_url = base_url
        self.sandbox_app = sandbox_app
        self._http = http
        self._client = client
        self._last_ping = -_PING_MEMO_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock) -> VirtuosoLink:
        if settings.virtuoso_sandbox:
            # The service's clock, so executions progress when a test moves time on.
            app = create_sandbox_app(token=DEFAULT_TOKEN, clock=clock)
            base_url = f"http://sandbox{BASE_PATH}"
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, timeout=30)
            org_id = settings.virtuoso_org_id or SEED.organization_id
            client = VirtuosoClient(http, token=DEFAULT_TOKEN, org_id=org_id)
            return cls("sandbox", http=http, client=client, sandbox_app=app, base_url="/sandbox" + BASE_PATH)
        if settings.virtuoso_api_token is not None:
            base_url = str(settings.virtuoso_base_url).rstrip("/")
            http = build_virtuoso_http(base_url)
            token = settings.virtuoso_api_token.get_secret_value()
            client = VirtuosoClient(http, token=token, org_id=settings.virtuoso_org_id)
            return cls("virtuoso", http=http, client=client, base_url=base_url)
        return cls("unconfigured", http=None, client=None)

    @property
    def client(self) -> VirtuosoClient:
        """The client; :class:`VirtuosoNotConfigured` (503) when there is no Virtuoso to talk to."""
        if self._client is None:
            raise VirtuosoNotConfigured()
        return self._client

    async def ping(self) -> None:
        """A cheap authenticated read, at most every 15 s; raises when Virtuoso does not answer."""
        if time.monotonic() - self._last_ping < _PING_MEMO_SECONDS:
            return
        await self.client.list_projects(limit=1)
        self._last_ping = time.monotonic()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
