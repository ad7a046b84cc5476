"""``VirtuosoClient``: every Virtuoso endpoint a command or a test suite needs, typed.

The methods live in one mixin per area (``_projects``, ``_suites``, ``_steps``, ``_library``,
``_runs``, ``_data``); requests, the envelope, errors and retries are in ``_http``.
"""

from __future__ import annotations

import httpx

from virtuoso_api.kit.redact import register_secret
from virtuoso_api.resilience import RemoteCall
from virtuoso_api.virtuoso._data import DataApi
from virtuoso_api.virtuoso._http import VirtuosoHttp, virtuoso_remote
from virtuoso_api.virtuoso._library import LibraryApi
from virtuoso_api.virtuoso._projects import ProjectsApi
from virtuoso_api.virtuoso._runs import RunsApi
from virtuoso_api.virtuoso._steps import StepsApi
from virtuoso_api.virtuoso._suites import SuitesApi


class VirtuosoClient(ProjectsApi, SuitesApi, StepsApi, LibraryApi, RunsApi, DataApi):
    """Talks to Virtuoso (or the sandbox) through an injected ``httpx.AsyncClient``.

    ``http`` carries the base URL (``https://api.virtuoso.qa/api``, or the sandbox's
    ``http://127.0.0.1:8100/api``) and the timeout; see :func:`build_virtuoso_http`. The caller owns it
    and closes it. ``org_id`` is needed to create projects and narrows the project list. Errors are the
    classes of :mod:`virtuoso_api.virtuoso.errors`; every request goes through ``remote`` (the
    resilience kit: retries of safe requests, a breaker; see :func:`virtuoso_remote`).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: str,
        org_id: int | None,
        client_id: str = "virtuoso-api",
        client_name: str = "virtuoso-api",
        remote: RemoteCall | None = None,
    ) -> None:
        # Registered before any request, so every message, log line and stored error masks it.
        register_secret(token)
        self._http = VirtuosoHttp(
            http,
            token=token,
            client_id=client_id,
            client_name=client_name,
            remote=remote or virtuoso_remote(),
        )
        self._org_id = org_id

    @property
    def org_id(self) -> int | None:
        return self._org_id
