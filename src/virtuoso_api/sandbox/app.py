"""``create_sandbox_app``: a Virtuoso stand-in serving Virtuoso's paths under ``/api``.

Point a client at ``http://<host>:<port>/api`` exactly as at ``https://api-app2.virtuoso.qa/api``.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from virtuoso_api.kit.clock import Clock, SystemClock
from virtuoso_api.sandbox import (
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

#: Where the Virtuoso paths live; the same as the real API's ``/api``.
BASE_PATH = "/api"
DEFAULT_TOKEN = "sandbox-token"


def create_sandbox_app(
    *, token: str = DEFAULT_TOKEN, seed: bool = True, clock: Clock | None = None
) -> FastAPI:
    """A fresh sandbox with its own in-memory state (``app.state.sandbox``).

    ``seed`` adds the demo objects of :mod:`virtuoso_api.sandbox.seed`; ``clock`` drives executions
    (pass a ``ManualClock`` to move them on without waiting).
    """
    if not token:
        raise ValueError("the sandbox needs a non-empty token")
    app = FastAPI(
        title="Virtuoso sandbox",
        description="A Virtuoso-compatible simulator for tests and demos; state is in memory.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    state = SandboxState(token=token, clock=clock or SystemClock())
    if seed:
        seed_state(state)
    app.state.sandbox = state
    install_error_handlers(app)
    for module in (
        routes_projects,
        routes_suites,
        routes_steps,
        routes_library,
        routes_data,
        routes_executions,
    ):
        app.include_router(module.router, prefix=BASE_PATH, dependencies=[Depends(require_token)])
    return app
