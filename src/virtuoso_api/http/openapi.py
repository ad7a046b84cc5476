"""What the OpenAPI document says each operation can answer besides success, declared in one place.

FastAPI lists a route's success and, for any route with a parameter, a 422 in FastAPI's own shape.
The service answers every error in its envelope (``http/errors.py``), so each operation declares the
refusals it can give, from the pieces below, and nothing else:

- every ``/api/v1`` route: 401 (the gate) and 503 (the store behind the gate, or the service starting);
- a route that needs the write or admin scope: 403 (every key has read);
- a route that takes a JSON body: 400 (not JSON), 413 (over ``MAX_REQUEST_BYTES``), 415 (not sent as
  JSON) and 422;
- 404, 409 and 502 only where the route can answer them.

:func:`install_openapi` then drops FastAPI's guessed 422 where a route declared none (a path
parameter that any text satisfies cannot be refused).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str = Field(description="Where the problem is, such as `args[1]` or `commands[0].args`")
    reason: str


class ErrorBody(BaseModel):
    type: str = Field(examples=["validation_error"])
    message: str
    details: list[ErrorDetail] | dict[str, Any] | None = Field(
        default=None,
        description="For refused input, each field and why; for a backend that failed, what it said "
        "(`backend`, or Virtuoso's `request`, `status`, `message` and `code`)",
    )


class ErrorEnvelope(BaseModel):
    """Every error answer: the error and the request's id (also in `X-Request-ID`)."""

    error: ErrorBody
    request_id: str


#: FastAPI's ``responses=``: status to its declaration.
Responses = dict[int | str, dict[str, Any]]


def error(status: int, description: str, model: Any = ErrorEnvelope) -> Responses:
    """One refusal an operation can answer, in the envelope (or ``model``)."""
    return {status: {"model": model, "description": description}}


def declare(*parts: Responses) -> Responses:
    merged: Responses = {}
    for part in parts:
        merged.update(part)
    return merged


BAD_JSON: Final = error(400, "The body is not valid JSON")
UNAUTHORIZED: Final = error(401, "No X-API-Key, or one that is unknown, revoked or expired")
FORBIDDEN: Final = error(403, "The key lacks the scope this route needs")
TOO_LARGE: Final = error(413, "The body is larger than MAX_REQUEST_BYTES")
UNSUPPORTED_MEDIA: Final = error(415, "The body is not sent as application/json")
INVALID: Final = error(422, "The request is invalid; `details` names each field and why")
BAD_CURSOR: Final = error(400, "The cursor is not one this service handed out for this query")
OTHER_USER: Final = error(403, "`user_id` names another user and the key lacks the admin scope")
UPSTREAM_REFUSED: Final = error(502, "Virtuoso refused the request; `details` keep its status and message")
UNAVAILABLE: Final = error(
    503, "A backend (the documents store or Virtuoso) does not answer, or the service is starting"
)

#: What every ``/api/v1`` route can answer: the gate's refusal, or a store that does not answer.
API_RESPONSES: Final = declare(UNAUTHORIZED, UNAVAILABLE)
#: What a route that reads a JSON body can answer besides: not JSON, too large, not sent as JSON, invalid.
JSON_BODY: Final = declare(BAD_JSON, TOO_LARGE, UNSUPPORTED_MEDIA, INVALID)


def install_openapi(app: FastAPI) -> None:
    """Serve the document with only the refusals each operation declared (see the module doc)."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        schema = generate()  # built once, then FastAPI's cached copy; tidying it again is a no-op
        return _without_guessed_422(schema)

    app.openapi = document  # type: ignore[method-assign]


def _without_guessed_422(schema: dict[str, Any]) -> dict[str, Any]:
    guessed = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if answer.get("content", {}).get("application/json", {}).get("schema") == guessed:
                del operation["responses"]["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
