"""One JSON shape for every error: ``{"error": {"type", "message", "details"?}, "request_id"}``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.kit.redact import redact_value

_HTTP_ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_payload(error_type: str, message: str, request_id: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error, "request_id": request_id}


def error_body(error_type: str, message: str, request_id: str, details: Any = None) -> str:
    return json.dumps(error_payload(error_type, message, request_id, details))


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "commands", 0, "args") -> "commands[0].args"; the "body"/"query" part is noise to a caller.
    where = location[0] if location else None
    parts = list(location[1:]) if where in {"body", "query", "path", "header"} else list(location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    if where == "header":
        return f"header {text}"
    return text or "body"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VirtuosoApiError)
    # Every error answer leaves through here; a message may quote a library or Virtuoso, and a secret.
    message, details = redact_value((exc.message, exc.details))
    return JSONResponse(
        error_payload(exc.error_type, message, _request_id(request), details),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    content_type = request.headers.get("content-type", "")
    body_unread = any(tuple(item.get("loc", ())) == ("body",) for item in exc.errors())
    if body_unread and content_type and "json" not in content_type:
        # curl -d sends a form type: say what to send rather than "should be a valid dictionary".
        message = f"the body must be JSON, sent with Content-Type: application/json (got {content_type[:60]})"
        return JSONResponse(
            error_payload("unsupported_media_type", message, _request_id(request)), status_code=415
        )
    details = [
        {
            "field": _field_name(item.get("loc", ())),
            "reason": str(item.get("msg", "invalid")).removeprefix("Value error, "),
        }
        for item in exc.errors()
    ]
    message = "; ".join(f"{d['field']}: {d['reason']}" for d in details) or "invalid request"
    return JSONResponse(
        error_payload("validation_error", message, _request_id(request), details), status_code=422
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_type = _HTTP_ERROR_TYPES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_payload(error_type, str(exc.detail), _request_id(request)),
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VirtuosoApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
