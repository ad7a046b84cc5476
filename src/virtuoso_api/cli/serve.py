"""``virtuoso-api serve``: run the HTTP service."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from virtuoso_api.config import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind. Default: HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Port. Default: PORT or 8000.", min=1, max=65535)] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of the embedded store. Default: DATA_DIR.")
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Talk to a built-in Virtuoso sandbox (mounted at /sandbox).")
    ] = False,
) -> None:
    """Run the service (embedded defaults: SQLite in the data folder, no cloud account needed)."""
    # Imported here, not at the top: the app, uvicorn and the stores take most of a second to load,
    # and `virtuoso-api --help` (or any other command) must not pay for them; asyncio too (it brings
    # ssl and sockets), which nothing else `--help` loads needs.

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from virtuoso_api.app import create_app
    from virtuoso_api.cli._runtime import Exit, fail, out, settings_or_exit
    from virtuoso_api.errors import Misconfigured
    from virtuoso_api.infra.blobs import check_blobs
    from virtuoso_api.infra.documents import check_libraries
    from virtuoso_api.infra.secrets import check_secrets
    from virtuoso_api.kit.clock import SystemClock
    from virtuoso_api.kit.redact import install_filter, with_redaction
    from virtuoso_api.services.telemetry import check_libraries as check_telemetry
    from virtuoso_api.telemetry import logs as telemetry_logs

    settings = settings_or_exit(host=host, port=port, data_dir=data_dir, virtuoso_sandbox=sandbox or None)
    try:
        check_libraries(settings)
        check_blobs(settings)
        check_secrets(settings, clock=SystemClock())  # the gcp extra, or a local key that fits
        check_telemetry(settings)
    except Misconfigured as exc:
        fail(exc.message, Exit.USAGE)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Secrets are masked by a filter on each handler rather than on loggers: a logger's filter sees
    # only records logged to it, a handler's every record that reaches it. The root handler takes our
    # loggers and the libraries'; uvicorn's loggers do not propagate to it, so its own handlers get
    # the filter through the logging config uvicorn is given below.
    install_filter(logging.getLogger().handlers)
    json_lines = settings.log_format == "json"
    telemetry_logs.install(
        logging.getLogger().handlers, json_lines=json_lines, project_id=settings.gcp_project_id
    )
    # httpx logs every request it sends at INFO: one line per Virtuoso call would drown the service's
    # own log and cost CPU on every command.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    stores = ", ".join(settings.enabled_gcp_services()) or f"embedded (SQLite in {settings.data_dir})"
    if settings.virtuoso_sandbox:
        virtuoso = "the built-in sandbox at /sandbox/api (token 'sandbox-token'), NOT the real Virtuoso"
    elif settings.virtuoso_api_token is not None:
        virtuoso = str(settings.virtuoso_base_url)
    elif settings.use_secret_manager:
        secret = f"{settings.environment.value}-virtuoso-api-key"
        virtuoso = f"{settings.virtuoso_base_url} (token from Secret Manager: {secret})"
    elif asyncio.run(_local_virtuoso_secret(settings)):
        secret = f"{settings.environment.value}-virtuoso-api-key"
        virtuoso = f"{settings.virtuoso_base_url} (token from the local secret {secret})"
    else:
        virtuoso = "not configured: set VIRTUOSO_API_TOKEN, or use --sandbox to try it out"
    out.print(f"Virtuoso API on http://{settings.host}:{settings.port} (docs at /docs)", markup=False)
    out.print(f"  store:    {stores}", markup=False)
    out.print(f"  virtuoso: {virtuoso}", markup=False)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        # Without a bound uvicorn waits for every open request (a long ?wait=, a slow Virtuoso call)
        # before the lifespan's shutdown, and Cloud Run's SIGKILL comes first: nothing is flushed.
        timeout_graceful_shutdown=int(math.ceil(settings.shutdown_drain_seconds)),
        log_config=telemetry_logs.with_trace(
            with_redaction(LOGGING_CONFIG), json_lines=json_lines, project_id=settings.gcp_project_id
        ),
    )


async def _local_virtuoso_secret(settings: Settings) -> bool:
    """Whether the local secrets file holds Virtuoso's key (what the service will then use)."""
    from virtuoso_api.kit.clock import SystemClock
    from virtuoso_api.secrets import SecretType
    from virtuoso_api.services.secrets import build_secrets_service

    async with build_secrets_service(settings, clock=SystemClock()) as secrets:
        return await secrets.find(secrets.ref(SecretType.VIRTUOSO_API_KEY)) is not None
