"""The FastAPI application: ``create_app(settings)`` builds it; its lifespan builds the services once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from virtuoso_api import __version__
from virtuoso_api.api_keys import endpoints as api_keys_endpoints
from virtuoso_api.api_keys.auth import authenticate
from virtuoso_api.api_keys.deps import API_KEYS
from virtuoso_api.api_keys.gate import AuthGateMiddleware
from virtuoso_api.commands import endpoints as commands_endpoints
from virtuoso_api.config import Settings, load_settings
from virtuoso_api.health import endpoints as health_endpoints
from virtuoso_api.health import metrics as health_metrics
from virtuoso_api.history import endpoints as history_endpoints
from virtuoso_api.http.errors import install_error_handlers
from virtuoso_api.http.limits import BodyLimitMiddleware
from virtuoso_api.http.methods import AllowedMethodsMiddleware
from virtuoso_api.http.openapi import API_RESPONSES, install_openapi
from virtuoso_api.http.request_context import RequestContextMiddleware
from virtuoso_api.idempotency.deps import IDEMPOTENCY
from virtuoso_api.jobs import endpoints as jobs_endpoints
from virtuoso_api.jobs import internal as jobs_internal
from virtuoso_api.kit.clock import Clock
from virtuoso_api.runs import endpoints as runs_endpoints
from virtuoso_api.services import Services
from virtuoso_api.sessions import endpoints as sessions_endpoints
from virtuoso_api.storage import endpoints as storage_endpoints
from virtuoso_api.stream import endpoints as stream_endpoints
from virtuoso_api.suites import endpoints as suites_endpoints
from virtuoso_api.suites import run_endpoints as suite_runs_endpoints
from virtuoso_api.telemetry.middleware import TelemetryMiddleware
from virtuoso_api.webhooks import endpoints as webhooks_endpoints


def _hand_to_routes(app: FastAPI, services: Services) -> None:
    """Put the running services where each domain's routes look for them (``http/deps.py``)."""
    health_endpoints.SERVICES.put(app, services)
    health_metrics.TELEMETRY.put(app, services.telemetry)
    API_KEYS.put(app, services.api_keys)
    sessions_endpoints.SESSIONS.put(app, services.sessions)
    history_endpoints.HISTORY.put(app, services.history)
    commands_endpoints.COMMANDS.put(app, services.commands)
    IDEMPOTENCY.put(app, services.idempotency)
    runs_endpoints.RUNS.put(app, services.runs)
    webhooks_endpoints.WEBHOOKS.put(app, services.webhooks)
    stream_endpoints.EVENTS.put(app, services.events)
    jobs_endpoints.JOBS.put(app, services.jobs)
    jobs_internal.TASKS.put(app, services.tasks)
    storage_endpoints.STORAGE.put(app, services.storage)
    suite_runs_endpoints.SUITES.put(app, services.suites)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Services.running(settings, clock=clock, background=True) as services:
            _hand_to_routes(app, services)
            if services.virtuoso.sandbox_app is not None:
                app.mount("/sandbox", services.virtuoso.sandbox_app)
            yield

    app = FastAPI(
        title="Virtuoso API",
        version=__version__,
        summary="Author and run Virtuoso tests: commands, sessions, suites, on one machine or Google Cloud.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_openapi(app)
    # Innermost first: the key is checked before the body is read, the size before that, a method
    # the path does not take before that, and CORS (which answers preflights) and the request id
    # wrap them all, so their refusals carry the headers and the id.
    app.add_middleware(AuthGateMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(AllowedMethodsMiddleware)
    if settings.cors_origins:
        # Never "*" with credentials (the original did): origins are listed, keys travel in a header.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["X-API-Key", "X-Request-ID", "Idempotency-Key", "Content-Type"],
            expose_headers=["X-Request-ID"],
        )
    # Just inside the request id: a span and a duration per request, an escaping error reported.
    app.add_middleware(TelemetryMiddleware)
    app.add_middleware(RequestContextMiddleware)

    api = APIRouter(prefix="/api/v1", dependencies=[Depends(authenticate)], responses=API_RESPONSES)
    api.include_router(api_keys_endpoints.router)
    api.include_router(sessions_endpoints.router)
    api.include_router(history_endpoints.router)
    api.include_router(commands_endpoints.router)
    api.include_router(suites_endpoints.router)
    api.include_router(suite_runs_endpoints.router)
    api.include_router(jobs_endpoints.router)
    api.include_router(runs_endpoints.router)
    api.include_router(webhooks_endpoints.router)
    api.include_router(stream_endpoints.router)
    app.include_router(api)
    app.include_router(health_endpoints.router)
    app.include_router(storage_endpoints.router)
    app.include_router(health_metrics.router)
    if settings.use_cloud_tasks:  # locally the dispatcher runs tasks in-process: no route at all
        app.include_router(jobs_internal.router)
    return app
