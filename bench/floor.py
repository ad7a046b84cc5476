"""The floor for ``bench/throughput.py``: the least a service can do for a step command.

A bare FastAPI app with one endpoint that makes exactly one ``POST /teststeps`` to Virtuoso (the
sandbox) through one shared ``httpx.AsyncClient`` and answers Virtuoso's JSON: no API key, no parsing,
no listing, no history. What the service costs beyond this is what it adds.

    .venv/bin/python bench/floor.py --port 8200 --upstream http://127.0.0.1:8100/api --token T

``POST /step`` takes ``{"checkpoint_id": N}``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class StepRequest(BaseModel):
    checkpoint_id: int


def create_floor_app(upstream: str, token: str) -> FastAPI:
    # Steps the sandbox has confirmed, per checkpoint. Inserting at confirmed + 1 is always in range
    # (a checkpoint never has fewer steps than we saw made), however concurrent requests interleave;
    # a counter bumped before the call could ask for a position past the end when two calls swap
    # order on the way. It is also what the service does: insert at the count it last saw, plus one.
    confirmed: defaultdict[int, int] = defaultdict(int)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # httpx with its defaults and a 30 s timeout, as the issue defines the floor (and as the
        # service's client was built before it moved to aiohttp: see virtuoso/_transport.py).
        async with httpx.AsyncClient(
            base_url=upstream, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            app.state.http = http
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/step")
    async def step(body: StepRequest, request: Request) -> JSONResponse:
        http: httpx.AsyncClient = request.app.state.http
        payload: dict[str, Any] = {
            "checkpointId": body.checkpoint_id,
            "stepIndex": confirmed[body.checkpoint_id] + 1,
            "parsedStep": {"action": "COMMENT", "value": "x"},
        }
        answer = await http.post("/teststeps", params={"envelope": "false"}, json=payload)
        if answer.is_success:
            confirmed[body.checkpoint_id] += 1
        # Virtuoso's status passes through, so a refusal shows in wrk's non-2xx count.
        return JSONResponse(answer.json(), status_code=answer.status_code)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="Virtuoso's API, e.g. http://127.0.0.1:8100/api")
    parser.add_argument("--token", required=True)
    options = parser.parse_args()
    # The service's uvicorn settings (cli/serve.py), less its logging: a floor logs nothing per request.
    uvicorn.run(
        create_floor_app(options.upstream, options.token),
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
