"""The CLI as a client of a deployed service (``VIRTUOSO_API_SERVER`` and ``VIRTUOSO_API_KEY``).

Commands that can go either way ask :func:`remote_service` first: with both settings it returns a
:class:`RemoteService` and the command calls the service's HTTP API with the key; without, the command
opens the stores and Virtuoso itself as before. The answers are the API's models (the ones the
local path returns), and the error envelope comes back as the same error classes the local path
raises, so the output and the exit codes are the same either way.

``suite run`` routes the same way (``_suites_backend.py``): each file a suite job on the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final

import httpx

from virtuoso_api import __version__
from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable as _BackendUnavailable
from virtuoso_api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    UpstreamRejected,
    VirtuosoApiError,
)
from virtuoso_api.kit.redact import register_secret

#: Most calls answer at once; a command waits on Virtuoso (its retries included), a run's ``?wait=``
#: up to a minute: the longest is given per call.
DEFAULT_TIMEOUT_SECONDS: Final = 120.0


class ServiceDown(_BackendUnavailable):
    """The service did not answer, or answered 503: exits as any unavailable backend does."""

    def __init__(self, message: str, details: Any = None) -> None:
        ServiceUnavailable.__init__(self, message, details=details)
        self.backend = "service"


def remote_service(settings: Settings) -> RemoteService | None:
    if settings.virtuoso_api_server is None or settings.virtuoso_api_key is None:
        return None
    key = settings.virtuoso_api_key.get_secret_value()
    register_secret(key)  # never printed, whatever an error quotes
    return RemoteService(str(settings.virtuoso_api_server), key)


class RemoteService:
    def __init__(self, server: str, key: str) -> None:
        self.server = server.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.server,
            headers={"X-API-Key": key, "User-Agent": f"virtuoso-api-cli/{__version__}"},
            timeout=DEFAULT_TIMEOUT_SECONDS,
            follow_redirects=False,
        )

    async def __aenter__(self) -> RemoteService:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """``/api/v1{path}``; a 2xx answer, or the error it carried raised as ours."""
        try:
            response = await self._http.request(
                method,
                f"/api/v1{path}",
                json=json,
                params={k: v for k, v in (params or {}).items() if v is not None},
                timeout=timeout or DEFAULT_TIMEOUT_SECONDS,
            )
        except httpx.TimeoutException as exc:
            late = f"the service at {self.server} did not answer in time ({type(exc).__name__})"
            raise ServiceDown(late) from exc
        except httpx.TransportError as exc:
            raise ServiceDown(f"the service at {self.server} is unreachable: {exc}") from exc
        if response.is_success:
            return response
        raise as_error(response, self.server)

    async def json(self, method: str, path: str, **options: Any) -> Any:
        return (await self.call(method, path, **options)).json()


def as_error(response: httpx.Response, server: str) -> VirtuosoApiError:
    """The service's error envelope (``{"error": {"type", "message", "details"}}``) as the error the
    local path would have raised for it."""
    try:
        error = response.json()["error"]
        message, details = str(error["message"]), error.get("details")
    except (ValueError, KeyError, TypeError):
        message, details = f"the service at {server} answered {response.status_code}", None
    status = response.status_code
    if status in (503, 504):
        return ServiceDown(message, details)
    if status == 422:
        first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
        refused = InvalidInput(str(first.get("field", "request")), str(first.get("reason", message)))
        refused.message, refused.details = message, details  # as the service said it
        return refused
    if status == 401:
        return Unauthorized(message)
    kinds: dict[int, type[VirtuosoApiError]] = {
        400: BadRequest,
        403: Forbidden,
        404: NotFound,
        409: Conflict,
        413: BadRequest,  # a body too large: bad input, as an oversized file is here
        502: UpstreamRejected,
    }
    return kinds.get(status, VirtuosoApiError)(message, details=details)
