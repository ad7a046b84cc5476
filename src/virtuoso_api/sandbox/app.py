"""``create_sandbox_app``: a Virtuoso stand-in serving Virtuoso's paths under ``/api``.

Point a client at ``http://<host>:<port>/api`` exactly as at ``https://api.virtuoso.qa/api``. Test
controls (cancel a run, answer 429, count requests) are under ``/_sandbox`` (``routes_control.py``).
"""

from __future__ import annotations

import asyncio

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuoso_api.kit.clock import Clock, SystemClock
from virtuoso_api.sandbox import (
    routes_control,
    routes_data,
    routes_executions,
    routes_library,
    routes_projects,
    routes_steps,
    routes_suites,
)
from virtuoso_api.sandbox._deps import require_token
from virtuoso_api.sandbox.errors import install_error_handlers
from virtuoso_api.sandbox.seed import seed as seed_state
from virtuoso_api.sandbox.state import SandboxState
from virtuoso_api.sandbox.traffic import TrafficMiddleware

#: Where the Virtuoso paths live; the same as the real API's ``/api``.
BASE_PATH = "/api"
DEFAULT_TOKEN = "sandbox-token"
#: How long each step of a run takes in the sandbox, by default.
STEP_SECONDS = 0.5
#: A request carrying this header is answered without the added latency: tests watch the sandbox's
#: state through it while the service under test waits.
OBSERVER_HEADER = "x-sandbox-observer"


def create_sandbox_app(
    *,
    token: str = DEFAULT_TOKEN,
    seed: bool = True,
    clock: Clock | None = None,
    step_seconds: float = STEP_SECONDS,
    latency_seconds: float = 0.0,
) -> FastAPI:
    """A fresh sandbox with its own in-memory state (``app.state.sandbox``).

    ``seed`` adds the demo objects of :mod:`virtuoso_api.sandbox.seed`; ``clock`` drives executions
    (pass a ``ManualClock`` to move them on without waiting); each step of a run takes
    ``step_seconds`` on it (a run is queued for two steps' time first); ``latency_seconds`` holds
    every answer that long after the request was handled, as a slow link to a remote Virtuoso would.
    """
    if step_seconds <= 0:
        raise ValueError("step_seconds must be positive")
    if not token:
        raise ValueError("the sandbox needs a non-empty token")
    if latency_seconds < 0:
        raise ValueError("latency_seconds must not be negative")
    app = FastAPI(
        title="Virtuoso sandbox",
        description="A Virtuoso-compatible simulator for tests and demos; state is in memory.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    state = SandboxState(token=token, clock=clock or SystemClock(), step_seconds=step_seconds)
    if seed:
        seed_state(state)
    app.state.sandbox = state
    install_error_handlers(app)
    # Executions first: its GET /testsuites/execution must match before GET /testsuites/{journey_id}.
    for module in (
        routes_executions,
        routes_projects,
        routes_suites,
        routes_steps,
        routes_library,
        routes_data,
    ):
        app.include_router(module.router, prefix=BASE_PATH, dependencies=[Depends(require_token)])
    app.include_router(routes_control.router, dependencies=[Depends(require_token)])
    if latency_seconds:
        app.add_middleware(_SlowAnswers, seconds=latency_seconds)
    # Outermost: every request is counted, and a throttled one is answered 429 at once.
    app.add_middleware(TrafficMiddleware, traffic=state.traffic, base_path=BASE_PATH)
    return app


class _SlowAnswers:
    """Holds each answer back after the request was handled: the change is made at once, the caller
    hears of it ``seconds`` later (the window a crash between the two falls into)."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == OBSERVER_HEADER.encode() for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return

        async def held(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self.seconds)
            await send(message)

        await self.app(scope, receive, held)
