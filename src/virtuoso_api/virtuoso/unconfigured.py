"""A Virtuoso client for a service with no Virtuoso configured: every call raises the 503 that says
what to set, so callers hold a client either way and never check for ``None``."""

from __future__ import annotations

import httpx

from virtuoso_api.virtuoso.client import VirtuosoClient
from virtuoso_api.virtuoso.errors import VirtuosoNotConfigured


class _Refusing(httpx.AsyncBaseTransport):
    async def handle_async_request(self, _request: httpx.Request) -> httpx.Response:
        raise VirtuosoNotConfigured()


def unconfigured_client() -> tuple[VirtuosoClient, httpx.AsyncClient]:
    """The client, and the (socket-less) ``httpx.AsyncClient`` under it for the caller to close."""
    http = httpx.AsyncClient(transport=_Refusing(), base_url="http://virtuoso.unconfigured/api")
    return VirtuosoClient(http, token="", org_id=None), http
