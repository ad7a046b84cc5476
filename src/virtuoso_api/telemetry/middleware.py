"""The one HTTP instrumentation: a server span and a duration per request, and unhandled errors reported.

Pure ASGI and written here rather than OpenTelemetry's ASGI instrumentation: that one makes three
spans per request (the request, and one per ``http.send``/``http.receive``), reads and normalises
every header for its attributes, and labels its metrics with the host and port; this one makes one
span, reads two headers (``traceparent``, ``tracestate``) and labels the duration with the method,
the route's template (``/api/v1/jobs/{job_id}``, never the raw path) and the status code only.
``bench/telemetry_overhead.py`` measures what it costs.

It sits just inside the request-id middleware, so the id is known here and an error that escapes
the app is reported (with the request's context, redacted) before that middleware answers the 500.
"""

from __future__ import annotations

import time
from typing import Any, Final

from opentelemetry.trace import SpanKind, Status, StatusCode, format_trace_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuoso_api.telemetry.propagation import span
from virtuoso_api.telemetry.runtime import active

_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TRACE_HEADERS: Final = (b"traceparent", b"tracestate")


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = active()
        if scope["type"] != "http" or not telemetry.enabled:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "other"
        carrier = {
            name.decode(): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _TRACE_HEADERS
        }
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with span(method, carrier=carrier, kind=SpanKind.SERVER) as current:
            try:
                await self.app(scope, receive, send_status)
            except Exception as exc:
                status = 500
                context = request_context(scope, current.get_span_context().trace_id)
                telemetry.report_error(exc, context, where="http")
                raise
            finally:
                route = route_of(scope)
                current.update_name(f"{method} {route}")
                current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)
                if status >= 500:
                    current.set_status(Status(StatusCode.ERROR))
                elapsed = (time.perf_counter() - started) * 1000
                telemetry.metrics.requests.record(
                    elapsed,
                    {"http.request.method": method, "http.route": route, "http.response.status_code": status},
                )


def route_of(scope: Scope) -> str:
    """The matched route's template; the sandbox's mount as one; ``unmatched`` for a 404's path."""
    # FastAPI (0.16x) runs an included router's route as it was declared ("/jobs/{job_id}") and keeps
    # the template with its prefixes in its effective route context; older versions copied the route
    # with the full path into scope["route"]. The tests pin the full template either way.
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path_format", None)
    if isinstance(path, str):
        return path
    if scope.get("root_path", "").endswith("/sandbox") or scope["path"].startswith("/sandbox/"):
        return "/sandbox"
    return "unmatched"


def request_context(scope: Scope, trace_id: int) -> dict[str, Any]:
    """What an error report says about the request: no header, body or query string (they may hold
    keys or personal data), only where it went, who asked and the ids to find it by."""
    state = scope.get("state") or {}
    principal = state.get("principal")
    return {
        "http_method": scope.get("method"),
        "route": route_of(scope),
        "path": scope.get("path"),
        "request_id": state.get("request_id"),
        "trace_id": format_trace_id(trace_id) if trace_id else None,
        "user_id": getattr(principal, "user_id", None),
        "key_id": getattr(principal, "key_id", None) or None,
    }
