"""An unhandled error reaches the error log with the request's context and without any secret."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.support import MakeKey, auth
from tests.telemetry.conftest import parse, value
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.kit.redact import register_secret
from virtuoso_api.services import Services

PLANTED = "sk-live-telemetry-canary-7f3a9c"


async def test_an_unhandled_error_is_logged_with_its_context_and_no_secret(
    app: FastAPI, client: httpx.AsyncClient, services: Services, make_key: MakeKey
) -> None:
    register_secret(PLANTED)

    async def broken() -> None:  # a route with a bug: what the error log is for
        raise RuntimeError(f"the upstream said no to {PLANTED}")

    app.add_api_route("/api/v1/broken/{item_id}", broken, methods=["GET"])
    key = await make_key(name="author", user="ana")
    answer = await client.get(f"/api/v1/broken/42?token={PLANTED}", headers=auth(key))
    assert answer.status_code == 500
    assert PLANTED not in answer.text
    request_id = answer.headers["X-Request-ID"]

    assert services.telemetry.errors is not None
    assert services.telemetry.errors.flush()
    log = services.settings.data_dir / "errors.jsonl"
    (line,) = log.read_text().splitlines()
    assert PLANTED not in line
    report = json.loads(line)
    assert report["type"] == "RuntimeError"
    assert report["message"] == "the upstream said no to ***"
    assert "Traceback (most recent call last)" in report["stack"]
    assert report["context"]["route"] == "/api/v1/broken/{item_id}"
    assert report["context"]["path"] == "/api/v1/broken/42"  # no query string: it may hold keys
    assert report["context"]["http_method"] == "GET"
    assert report["context"]["request_id"] == request_id
    assert report["context"]["user_id"] == "ana"
    assert len(report["context"]["trace_id"]) == 32

    admin = await make_key(Scope.ADMIN, name="operator")
    samples = parse((await client.get("/metrics", headers=auth(admin))).text)
    assert value(samples, "virtuoso_errors_total", type="RuntimeError", where="http") == 1
    assert (
        value(
            samples,
            "virtuoso_http_server_duration_milliseconds_count",
            http_route="/api/v1/broken/{item_id}",
            http_response_status_code="500",
        )
        == 1
    )
