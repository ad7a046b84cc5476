"""``virtuoso-api serve``: run the HTTP service."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from virtuoso_api.app import create_app
from virtuoso_api.cli._runtime import Exit, fail, out, settings_or_exit
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.documents import check_libraries


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
    settings = settings_or_exit(host=host, port=port, data_dir=data_dir, virtuoso_sandbox=sandbox or None)
    try:
        check_libraries(settings)
    except Misconfigured as exc:
        fail(exc.message, Exit.USAGE)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stores = ", ".join(settings.enabled_gcp_services()) or f"embedded (SQLite in {settings.data_dir})"
    if settings.virtuoso_sandbox:
        virtuoso = "the built-in sandbox at /sandbox/api (token 'sandbox-token'), NOT the real Virtuoso"
    elif settings.virtuoso_api_token is not None:
        virtuoso = str(settings.virtuoso_base_url)
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
    )
