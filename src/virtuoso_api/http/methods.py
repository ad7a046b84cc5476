"""Which methods a path takes, said the same way everywhere: ``OPTIONS`` and every 405 list them all.

Starlette sends each request to the first route that takes its path and method; a method none takes
was a 405 whose ``Allow`` named only the first route on the path (``/api/v1/sessions`` said ``POST``,
though ``GET`` works too), ``OPTIONS`` was such a 405, and ``HEAD`` was refused where ``GET`` works.
Here the methods of the path, as its routes (and so the OpenAPI document) list them, are looked up first:

- ``OPTIONS`` answers 204 with ``Allow`` (a CORS preflight never gets here: ``CORSMiddleware``, outside
  this one, answers it when ``CORS_ORIGINS`` is set);
- ``HEAD`` is answered as the ``GET`` it mirrors, without the body (RFC 9110 section 9.3.2);
- a method the path does not take is a 405 in the error envelope, with the full ``Allow``.

Where a literal path and a parameter overlap (``/sessions/current`` and ``/sessions/{session_id}``),
the literal one alone decides: ``current`` is not a session id, so ``PATCH /sessions/current`` is a
405, not a search for a session called "current". Paths no route takes (a 404, or a mounted app such
as ``/sandbox``) pass through untouched. It runs before the key is checked: the methods of a path are
no secret (``/openapi.json`` lists them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from starlette.routing import Match, Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuoso_api.http.asgi_errors import send_error

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class _Path:
    """One path of the app (``/api/v1/sessions/{session_id}``) and the methods it takes."""

    pattern: re.Pattern[str]
    parameters: int
    methods: frozenset[str]


class AllowedMethodsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: list[_Path] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routed = self._routed_methods(scope)
        method = scope["method"]
        if routed is None or method in routed:
            await self.app(scope, receive, send)
            return
        allowed = routed | {"OPTIONS"} | ({"HEAD"} if "GET" in routed else set())
        if method == "OPTIONS":
            await _answer_options(send, allowed)
        elif method == "HEAD" and "GET" in routed:
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        else:
            await send_error(
                scope,
                send,
                status=405,
                error_type="method_not_allowed",
                message=f"{method} is not allowed here; allowed: {_allow_header(allowed)}",
                headers={"Allow": _allow_header(allowed)},
            )

    def _routed_methods(self, scope: Scope) -> frozenset[str] | None:
        """The methods the request's path takes, or ``None`` when no path of ours is the request's
        (a 404, or a mounted app that decides for itself)."""
        app = scope["app"]
        if any(isinstance(r, Mount) and r.matches(scope)[0] is not Match.NONE for r in app.routes):
            return None
        if self._paths is None:  # the app's routes are all in place by its first request
            self._paths = _paths_of(app)
        path = _route_path(scope)
        matched = [candidate for candidate in self._paths if candidate.pattern.fullmatch(path)]
        if not matched:
            return None
        fewest = min(candidate.parameters for candidate in matched)
        return frozenset().union(*(c.methods for c in matched if c.parameters == fewest))


def _paths_of(app: Any) -> list[_Path]:
    """Every path of the app with its methods, from its routes: the same routes the OpenAPI document
    is made of (so ``Allow`` and the document agree), and the app's own pages (``/openapi.json``,
    ``/docs``). Not from the document itself: building it took 0.2-0.6 s, which the first request of
    every process (and of every test's app) waited for.

    FastAPI 0.16x keeps included routers as routers (``iter_route_contexts`` walks them, with the
    resolved contexts routing uses and caches); earlier versions copied their routes into
    ``app.routes``."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = app.routes if contexts is None else contexts(app.routes)
    return [_path(route.path, route.methods) for route in routes if route.methods and route.path]


def _path(template: str, methods: set[str]) -> _Path:
    pattern, _, convertors = compile_path(template)
    return _Path(pattern, len(convertors), frozenset(methods))


def _route_path(scope: Scope) -> str:
    # As Starlette routes: the path below the root path the app is served under (--root-path).
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _allow_header(methods: set[str] | frozenset[str]) -> str:
    known = [method for method in _ORDER if method in methods]
    return ", ".join(known + sorted(methods - set(_ORDER)))


async def _answer_options(send: Send, allowed: set[str] | frozenset[str]) -> None:
    headers = [(b"allow", _allow_header(allowed).encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only
