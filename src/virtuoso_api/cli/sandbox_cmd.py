"""``virtuoso-api sandbox``: run the Virtuoso-compatible sandbox on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

# The sandbox's own DEFAULT_TOKEN (virtuoso_api.sandbox.app), spelled out so that showing it as the
# option's default in --help does not import the sandbox and FastAPI.
_DEFAULT_TOKEN = "sandbox-token"


def sandbox(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8100,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    token: Annotated[str, typer.Option(help="The bearer token the sandbox accepts.")] = _DEFAULT_TOKEN,
    step_seconds: Annotated[
        float, typer.Option(min=0.001, max=3600.0, help="How long each step of a run takes.")
    ] = 0.5,
    latency_ms: Annotated[
        int,
        typer.Option(help="Hold every answer this long after handling the request (a slow link).", min=0),
    ] = 0,
) -> None:
    """Run a Virtuoso stand-in (in-memory, seeded with a demo project) for tests and demos."""
    if not token.strip():
        raise typer.BadParameter("must not be empty", param_hint="--token")
    # Imported only when the sandbox runs: FastAPI and uvicorn would slow every other command.
    import uvicorn

    from virtuoso_api.cli._runtime import out
    from virtuoso_api.sandbox import BASE_PATH, FAIL_MARKER, SEED, create_sandbox_app

    base_url = f"http://{host}:{port}{BASE_PATH}"
    out.print(f"Virtuoso sandbox on {base_url}", markup=False)
    out.print(
        f"Seeded: organization {SEED.organization_id}, project {SEED.project_id}, goal {SEED.goal_id} "
        f"(snapshot {SEED.snapshot_id}), journey {SEED.journey_id}, checkpoint {SEED.checkpoint_id}",
        markup=False,
    )
    out.print(
        f"Use it: VIRTUOSO_BASE_URL={base_url} VIRTUOSO_API_TOKEN={token} "
        f"VIRTUOSO_ORG_ID={SEED.organization_id}",
        markup=False,
    )
    out.print(
        f"Runs: QUEUED, then RUNNING ({step_seconds:g} s a step), then FINISHED; a step whose value or "
        f"element contains {FAIL_MARKER!r} fails. Plan {SEED.plan_id} runs goal {SEED.goal_id}.",
        markup=False,
    )
    out.print(
        f"Test controls: POST http://{host}:{port}/_sandbox/executions/ID/cancel (or /abort), "
        f"POST /_sandbox/throttle, GET /_sandbox/requests",
        markup=False,
    )
    app = create_sandbox_app(token=token, step_seconds=step_seconds, latency_seconds=latency_ms / 1000)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
