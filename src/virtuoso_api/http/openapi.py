"""What the OpenAPI document says every route can answer besides success, declared in one place.

FastAPI lists only a route's success and a 422 in FastAPI's own shape; the service answers every
error in its envelope (``http/errors.py``), and the refusals below come from the middleware and the
auth dependency in front of every ``/api/v1`` route, so the routers share these declarations.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str = Field(description="Where the problem is, such as `args[1]` or `commands[0].args`")
    reason: str


class ErrorBody(BaseModel):
    type: str = Field(examples=["validation_error"])
    message: str
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(BaseModel):
    """Every error answer: the error and the request's id (also in `X-Request-ID`)."""

    error: ErrorBody
    request_id: str


#: FastAPI's ``responses=``: status to its declaration.
Responses = dict[int | str, dict[str, Any]]


def _error(status: int, description: str) -> Responses:
    return {status: {"model": ErrorEnvelope, "description": description}}


UNAUTHORIZED: Final = _error(401, "No X-API-Key, or one that is unknown, revoked or expired")
FORBIDDEN: Final = _error(403, "The key lacks the scope this route needs")
NOT_FOUND: Final = _error(404, "No such resource, or not the caller's")
CONFLICT: Final = _error(409, "The request conflicts with the current state")
TOO_LARGE: Final = _error(413, "The body is larger than MAX_REQUEST_BYTES")
UNSUPPORTED_MEDIA: Final = _error(415, "The body is not sent as application/json")
INVALID: Final = _error(422, "The request is invalid; `details` names each field")
UNAVAILABLE: Final = _error(503, "A backend (the documents store or Virtuoso) does not answer")

#: What any ``/api/v1`` route can answer: the gate, the body limit, validation, a backend down.
API_RESPONSES: Final[Responses] = {
    **UNAUTHORIZED,
    **FORBIDDEN,
    **TOO_LARGE,
    **UNSUPPORTED_MEDIA,
    **INVALID,
    **UNAVAILABLE,
}
