"""The errors a caller can see.

Every error the service answers with is a :class:`VirtuosoApiError`; one handler (``http/errors.py``)
renders it as ``{"error": {"type", "message", "details"?}, "request_id"}`` with its status. The CLI
prints the same message and exits non-zero. Anything else that escapes is a bug and answers 500
without its text (it may hold a secret).

    VirtuosoApiError                 500 internal_error
    ├── BadRequest                   400 bad_request
    ├── InvalidInput                 422 validation_error  (details: [{field, reason}])
    ├── Unauthorized                 401 unauthorized       (WWW-Authenticate: ApiKey)
    ├── Forbidden                    403 forbidden
    ├── NotFound                     404 not_found
    ├── Conflict                     409 conflict           (state_conflict: details [{field, reason}])
    ├── ServiceUnavailable           503 service_unavailable
    │   └── BackendUnavailable       503, names the backend (documents, virtuoso, ...)
    ├── UpstreamRejected             502 upstream_rejected  (Virtuoso refused; its message kept)
    └── Misconfigured                500 misconfigured      (the service cannot start as configured)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class VirtuosoApiError(Exception):
    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Mapping[str, Any] | Sequence[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


class BadRequest(VirtuosoApiError):
    status_code = 400
    error_type = "bad_request"


class InvalidInput(VirtuosoApiError):
    """A request field (or CLI argument) is wrong; ``details`` lists ``{field, reason}``."""

    status_code = 422
    error_type = "validation_error"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", details=[{"field": field, "reason": reason}])
        self.field = field
        self.reason = reason


class Unauthorized(VirtuosoApiError):
    status_code = 401
    error_type = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'})


class Forbidden(VirtuosoApiError):
    status_code = 403
    error_type = "forbidden"


class NotFound(VirtuosoApiError):
    status_code = 404
    error_type = "not_found"


class Conflict(VirtuosoApiError):
    status_code = 409
    error_type = "conflict"


def state_conflict(field: str, reason: str) -> Conflict:
    """A well-formed request that the current state refuses (no active session, a position past the
    end of a checkpoint): the same request may succeed later, so it is a 409, not a 422. Names the
    field as a 422 would."""
    return Conflict(f"{field}: {reason}", details=[{"field": field, "reason": reason}])


class ServiceUnavailable(VirtuosoApiError):
    status_code = 503
    error_type = "service_unavailable"


class BackendUnavailable(ServiceUnavailable):
    """A backend (documents, tasks, virtuoso, ...) did not answer; the caller may retry later."""

    def __init__(self, backend: str, reason: str, *, retry_after_seconds: int = 5) -> None:
        super().__init__(
            f"{backend} is unavailable: {reason}",
            details={"backend": backend},
            headers={"Retry-After": str(retry_after_seconds)},
        )
        self.backend = backend


class UpstreamRejected(VirtuosoApiError):
    """Virtuoso answered but refused the request; its status and message are kept in ``details``."""

    status_code = 502
    error_type = "upstream_rejected"


class Misconfigured(VirtuosoApiError):
    """The settings ask for something this installation cannot do (a missing optional library)."""

    error_type = "misconfigured"
