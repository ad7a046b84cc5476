"""Answering in the error envelope from a pure-ASGI middleware, before any route (or Request) exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import Scope, Send

from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.http.errors import error_body
from virtuoso_api.kit.redact import redact_value


def request_id_of(scope: Scope) -> str:
    # Set by RequestContextMiddleware, the outermost middleware.
    return str(scope.get("state", {}).get("request_id", "-"))


async def send_error(
    scope: Scope,
    send: Send,
    *,
    status: int,
    error_type: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    payload = error_body(error_type, message, request_id_of(scope), details).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (headers or {}).items()
        ),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def send_api_error(scope: Scope, send: Send, error: VirtuosoApiError) -> None:
    # Redacted as the app's own handler does (http/errors.py): a backend's message may quote a secret.
    message, details = redact_value((error.message, error.details))
    await send_error(
        scope,
        send,
        status=error.status_code,
        error_type=error.error_type,
        message=message,
        details=details,
        headers=error.headers,
    )
