"""The outermost middleware: a request id on every request and response, and the last-resort 500.

Pure ASGI rather than ``BaseHTTPMiddleware``: it must also wrap streaming responses, and it must turn an
unhandled exception into the JSON error shape itself, because Starlette's own last-resort handler
re-raises after answering and knows nothing of request ids.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuoso_api.http.errors import error_body
from virtuoso_api.kit.correlation import correlation_id

logger = logging.getLogger("virtuoso_api.http")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

#: The id of the request being served, for log records and outbound calls.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        correlated = correlation_id.set(request_id)  # what events published while serving it carry
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append(
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode())
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            # The server cut the request (at shutdown, once SHUTDOWN_DRAIN_SECONDS have passed): a
            # 503 the caller may retry elsewhere, not the 500 the server would answer for it. The
            # request ends here, so the cancellation has done its work and is not raised further.
            if started:
                raise
            await _send_stopping(send_with_id, request_id)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if started:  # the status line is gone; all that is left is to drop the connection
                raise
            await _send_internal_error(send_with_id, request_id)
        finally:
            request_id_var.reset(token)
            correlation_id.reset(correlated)

    @staticmethod
    def _incoming_id(scope: Scope) -> str | None:
        # A caller's id is echoed only if it is safe to put in a header and a log line.
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                text = value.decode("latin-1")
                return text if _VALID_ID.fullmatch(text) else None
        return None


async def _send_internal_error(send: Send, request_id: str) -> None:
    message = "the service failed to handle this request; it has been logged"
    await _send_error(send, 500, error_body("internal_error", message, request_id))


async def _send_stopping(send: Send, request_id: str) -> None:
    message = "the service is stopping and did not finish this request; send it again"
    headers = [(b"retry-after", b"1")]
    await _send_error(send, 503, error_body("service_unavailable", message, request_id), headers)


async def _send_error(
    send: Send, status: int, body: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
