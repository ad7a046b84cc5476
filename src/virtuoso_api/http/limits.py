"""A limit on request bodies, enforced before they are read.

Without it one unauthenticated 100 MB body took 7.6 s and 470 MB and held the event loop. A body whose
``Content-Length`` is over ``MAX_REQUEST_BYTES`` is refused at once, unread; a body without one (chunked)
or with a false one is counted as it arrives and refused when the count passes the limit, so no more
than the limit is ever held.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuoso_api.http.asgi_errors import send_error


def too_large_message(max_bytes: int) -> str:
    return f"the request body is larger than {max_bytes} bytes (MAX_REQUEST_BYTES)"


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the count passes the limit.

    An HTTPException because FastAPI turns any other exception raised while it reads a body into a
    400; this one it lets through to the error handlers, which answer 413 in the envelope."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(max_bytes))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _BodyTooLarge:
            # Read outside a route (a mounted app's own handlers, a middleware): still a 413.
            if started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_error(
            scope,
            send,
            status=413,
            error_type="payload_too_large",
            message=too_large_message(self.max_bytes),
            # The rest of the body is not read; the connection cannot carry another request after it.
            headers={"Connection": "close"},
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # A malformed length is the server's to refuse (uvicorn does); here it only means "count".
            return int(text) if text.isdigit() else None
    return None
