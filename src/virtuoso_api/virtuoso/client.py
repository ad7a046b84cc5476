"""``VirtuosoClient``: every Virtuoso endpoint a command or a test suite needs, typed.

The methods live in one mixin per area (``_projects``, ``_suites``, ``_steps``, ``_library``,
``_runs``, ``_data``); requests, the envelope, errors and retries are in ``_http``.
"""

from __future__ import annotations

import httpx

from virtuoso_api.kit.redact import register_secret
from virtuoso_api.resilience import RemoteCall
from virtuoso_api.virtuoso._data import DataApi
from virtuoso_api.virtuoso._http import VirtuosoHttp, as_transport, virtuoso_remote
from virtuoso_api.virtuoso._library import LibraryApi
from virtuoso_api.virtuoso._projects import ProjectsApi
from virtuoso_api.virtuoso._runs import RunsApi
from virtuoso_api.virtuoso._steps import StepsApi
from virtuoso_api.virtuoso._suites import SuitesApi
from virtuoso_api.virtuoso._transport import Transport
from virtuoso_api.virtuoso.tokens import StaticToken, TokenSource


class VirtuosoClient(ProjectsApi, SuitesApi, StepsApi, LibraryApi, RunsApi, DataApi):
    """Talks to Virtuoso (or the sandbox) through an injected transport.

    ``http`` carries the base URL (``https://api.virtuoso.qa/api``, or the sandbox's
    ``http://127.0.0.1:8100/api``) and the timeout: the aiohttp transport of
    :func:`build_virtuoso_http`, or an ``httpx.AsyncClient`` (an in-process app through
    ``httpx.ASGITransport``). The caller owns it and closes it. ``org_id`` is needed to create
    projects and narrows the project list. Errors are the classes of
    :mod:`virtuoso_api.virtuoso.errors`; every request goes through ``remote`` (the resilience kit:
    retries of safe requests, a breaker; see :func:`virtuoso_remote`). ``token`` is the bearer token,
    or a :class:`~virtuoso_api.virtuoso.tokens.TokenSource` whose newer token is fetched, and the
    request sent once more, when Virtuoso answers 401 (a rotated key).
    """

    def __init__(
        self,
        http: Transport | httpx.AsyncClient,
        *,
        token: str | TokenSource,
        org_id: int | None,
        client_id: str = "virtuoso-api",
        client_name: str = "virtuoso-api",
        remote: RemoteCall | None = None,
    ) -> None:
        # A fixed token is registered before any request, so every message, log line and stored error
        # masks it; a source registers each token it hands out (the secrets domain does).
        if isinstance(token, str):
            register_secret(token)
            token = StaticToken(token)
        self._http = VirtuosoHttp(
            as_transport(http),
            tokens=token,
            client_id=client_id,
            client_name=client_name,
            remote=remote or virtuoso_remote(),
        )
        self._org_id = org_id

    @property
    def org_id(self) -> int | None:
        return self._org_id

    @org_id.setter
    def org_id(self, value: int | None) -> None:
        # Set when credentials read after start-up (from a secret) name the organization.
        self._org_id = value
