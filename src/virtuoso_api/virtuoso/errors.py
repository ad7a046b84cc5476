"""What can go wrong talking to Virtuoso, as classes of our own error tree (``virtuoso_api.errors``).

Each class is also a :class:`~virtuoso_api.errors.VirtuosoApiError`, so the service's one error handler
renders it and the CLI maps it to an exit code without knowing about Virtuoso::

    VirtuosoError                      base of everything below
    ├── VirtuosoUnavailable            503 (BackendUnavailable, backend "virtuoso"): timeouts, connection
    │                                  failures, 429 and 5xx; retryable, the upstream status is kept
    ├── VirtuosoRejected               502 (UpstreamRejected): Virtuoso answered 4xx or ``success: false``;
    │   │                              its status, code and message are kept in ``details``
    │   ├── VirtuosoNotFound           404 (NotFound): the named resource does not exist in Virtuoso
    │   └── VirtuosoAuthFailed         502: 401/403, i.e. VIRTUOSO_API_TOKEN is wrong or lacks access
    └── VirtuosoProtocolError          502 (UpstreamRejected): an answer we cannot read (not JSON, no id)

No message or detail ever holds the API token: the HTTP layer scrubs Virtuoso's own messages before
they reach these classes.
"""

from __future__ import annotations

from typing import Any

from virtuoso_api.errors import BackendUnavailable, NotFound, UpstreamRejected, VirtuosoApiError

BACKEND = "virtuoso"


class VirtuosoError(VirtuosoApiError):
    """Base of every error raised by :class:`~virtuoso_api.virtuoso.client.VirtuosoClient`."""


class VirtuosoUnavailable(VirtuosoError, BackendUnavailable):
    """Virtuoso did not answer usefully: a timeout, a refused connection, 429 or a 5xx.

    ``reached_server`` is False only when the request provably never left this process (the connection
    was never made), which is the one case where even a POST may be sent again.
    """

    def __init__(
        self,
        reason: str,
        *,
        upstream_status: int | None = None,
        reached_server: bool = True,
        retry_after_seconds: int = 5,
    ) -> None:
        BackendUnavailable.__init__(self, BACKEND, reason, retry_after_seconds=retry_after_seconds)
        self.upstream_status = upstream_status
        self.reached_server = reached_server
        details: dict[str, Any] = {"backend": BACKEND}
        if upstream_status is not None:
            details["status"] = upstream_status
        self.details = details


class VirtuosoRejected(VirtuosoError, UpstreamRejected):
    """Virtuoso answered and refused; sending the same request again would be refused again."""

    def __init__(
        self,
        message: str,
        *,
        request: str,
        upstream_status: int,
        upstream_message: str,
        upstream_code: str | None = None,
    ) -> None:
        details: dict[str, Any] = {
            "request": request,
            "status": upstream_status,
            "message": upstream_message,
        }
        if upstream_code is not None:
            details["code"] = upstream_code
        VirtuosoApiError.__init__(self, message, details=details)
        self.request = request
        self.upstream_status = upstream_status
        self.upstream_message = upstream_message
        self.upstream_code = upstream_code


class VirtuosoNotFound(VirtuosoRejected, NotFound):
    """A 404 from Virtuoso; answered as 404 to our caller, naming the resource they asked for."""

    status_code = 404
    error_type = "not_found"


class VirtuosoAuthFailed(VirtuosoRejected):
    """401/403 from Virtuoso: a configuration problem on our side, so 502 rather than the caller's 401."""


class VirtuosoProtocolError(VirtuosoError, UpstreamRejected):
    """Virtuoso answered 2xx with something we cannot use (not JSON, not the expected shape, no id)."""

    def __init__(self, message: str, *, request: str) -> None:
        VirtuosoApiError.__init__(self, message, details={"request": request})
        self.request = request


class VirtuosoNotConfigured(VirtuosoError, BackendUnavailable):
    """There is no Virtuoso to talk to: no token is set and the sandbox was not asked for.

    Never retried and never a fallback to the sandbox: a step that went to a stand-in must not look
    like a step in Virtuoso."""

    DEFAULT_REASON = "not configured: set VIRTUOSO_API_TOKEN (and VIRTUOSO_BASE_URL), or start with --sandbox"

    def __init__(self, reason: str | None = None, *, check: str = "VIRTUOSO_API_TOKEN") -> None:
        # ``reason`` is ours (never upstream text), so readiness may show it: it says what to set.
        self.reason = reason or self.DEFAULT_REASON
        self.check = check
        BackendUnavailable.__init__(self, BACKEND, self.reason)
