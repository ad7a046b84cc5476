"""What reaches the sandbox's API: a count per request line, and 429s on demand (Virtuoso's quotas).

Virtuoso's API is "subject to quotas and DoS protection" (its documentation's "Virtuoso API" page); the
sandbox answers ``429 Too Many Requests`` to the next N requests once told to (the test control
``POST /_sandbox/throttle``, or :meth:`Traffic.throttle`), so a client's answer to a quota can be
tested. The counts let a test prove how many requests a client made (one poll loop per run, say).

A plain ASGI middleware rather than FastAPI's ``@app.middleware``: it runs on every request of every
benchmark that drives the sandbox, and the per-request cost of the latter is several times higher.
"""

from __future__ import annotations

import json
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send


class Traffic:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._throttled = 0
        self._retry_after = 1

    def throttle(self, requests: int, *, retry_after_seconds: int = 1) -> None:
        """Answer 429 to the next ``requests`` API requests."""
        self._throttled = max(0, requests)
        self._retry_after = max(0, retry_after_seconds)

    def count(self, method: str, path: str) -> int:
        return self.counts[f"{method} {path}"]

    def take_throttle(self) -> int | None:
        """The Retry-After of a 429 this request gets, or ``None`` when it goes through."""
        if self._throttled <= 0:
            return None
        self._throttled -= 1
        return self._retry_after


class TrafficMiddleware:
    """Counts requests under ``base_path`` and answers the throttled ones 429."""

    def __init__(self, app: ASGIApp, *, traffic: Traffic, base_path: str) -> None:
        self.app = app
        self.traffic = traffic
        self.prefix = base_path.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        if not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        self.traffic.counts[f"{scope['method']} {path.removeprefix(self.prefix[:-1])}"] += 1
        retry_after = self.traffic.take_throttle()
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"success": False, "error": {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
