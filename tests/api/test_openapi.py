"""The OpenAPI document says what the service does: each operation's refusals, and each field as the
service reads it. (``test_schema_conformance.py`` checks the document against the running service.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support import MakeKey, auth
from virtuoso_api.app import create_app
from virtuoso_api.commands.vocabulary import command_names
from virtuoso_api.config import Environment, Settings

#: Every operation and every status it can answer: a refusal it cannot give is not listed.
STATUSES = {
    ("get", "/files/{bucket}/{name}"): {200, 403, 404, 422},
    ("put", "/files/{bucket}/{name}"): {200, 403, 404, 422},
    ("post", "/api/v1/api-keys"): {201, 400, 401, 403, 413, 415, 422, 503},
    ("get", "/api/v1/api-keys"): {200, 401, 403, 422, 503},
    ("get", "/api/v1/api-keys/{key_id}"): {200, 401, 403, 404, 503},
    ("delete", "/api/v1/api-keys/{key_id}"): {200, 401, 403, 404, 503},
    ("get", "/api/v1/sessions"): {200, 401, 503},
    ("post", "/api/v1/sessions"): {201, 400, 401, 403, 413, 415, 422, 503},
    ("get", "/api/v1/sessions/current"): {200, 401, 404, 503},
    ("get", "/api/v1/sessions/{session_id}"): {200, 401, 404, 503},
    ("patch", "/api/v1/sessions/{session_id}"): {200, 400, 401, 403, 404, 413, 415, 422, 503},
    ("delete", "/api/v1/sessions/{session_id}"): {204, 401, 403, 404, 503},
    ("post", "/api/v1/sessions/{session_id}/activate"): {200, 401, 403, 404, 503},
    ("get", "/api/v1/commands/history"): {200, 400, 401, 403, 422, 503},
    ("get", "/api/v1/commands"): {200, 401, 503},
    ("post", "/api/v1/commands"): {200, 201, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503},
    ("post", "/api/v1/commands/batch"): {200, 207, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503},
    ("post", "/api/v1/suites/validate"): {200, 400, 401, 413, 415, 422, 503},
    ("post", "/api/v1/suites/runs"): {202, 400, 401, 403, 409, 413, 415, 422, 503},
    ("get", "/api/v1/suites/runs/{run_id}"): {200, 401, 404, 503},
    ("get", "/api/v1/suites/runs/{run_id}/junit"): {200, 401, 404, 503},
    ("post", "/api/v1/commands/async"): {202, 400, 401, 403, 409, 413, 415, 422, 503},
    ("post", "/api/v1/commands/batch/async"): {202, 400, 401, 403, 409, 413, 415, 422, 503},
    ("get", "/api/v1/jobs"): {200, 400, 401, 422, 503},
    ("get", "/api/v1/jobs/stats"): {200, 401, 403, 503},
    ("get", "/api/v1/jobs/{job_id}"): {200, 401, 404, 503},
    ("post", "/api/v1/jobs/{job_id}/cancel"): {200, 401, 403, 404, 409, 503},
    ("post", "/api/v1/runs"): {202, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503},
    ("get", "/api/v1/runs"): {200, 400, 401, 403, 422, 503},
    ("get", "/api/v1/runs/{execution_id}"): {200, 401, 404, 422, 502, 503},
    ("get", "/api/v1/runs/{execution_id}/junit"): {200, 401, 404, 422, 502, 503},
    ("get", "/api/v1/webhooks"): {200, 401, 503},
    ("post", "/api/v1/webhooks"): {201, 400, 401, 403, 409, 413, 415, 422, 503},
    ("get", "/api/v1/webhooks/dead-letters"): {200, 400, 401, 404, 422, 503},
    ("post", "/api/v1/webhooks/dead-letters/replay"): {200, 400, 401, 403, 404, 409, 413, 415, 422, 503},
    ("post", "/api/v1/webhooks/dead-letters/{delivery_id}/replay"): {200, 401, 403, 404, 409, 503},
    ("get", "/api/v1/webhooks/{webhook_id}"): {200, 401, 404, 503},
    ("patch", "/api/v1/webhooks/{webhook_id}"): {200, 400, 401, 403, 404, 413, 415, 422, 503},
    ("delete", "/api/v1/webhooks/{webhook_id}"): {204, 401, 403, 404, 503},
    ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret"): {200, 400, 401, 403, 404, 413, 415, 422, 503},
    ("post", "/api/v1/webhooks/{webhook_id}/test"): {200, 401, 403, 404, 409, 503},
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): {200, 400, 401, 404, 422, 503},
    ("get", "/api/v1/events/stream"): {200, 401, 422, 503},
    ("get", "/api/v1/events/types"): {200, 401, 503},
    ("get", "/health/live"): {200},
    ("get", "/health/ready"): {200, 503},
    ("get", "/metrics"): {200, 401, 403, 404, 503},
}

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture
def sandboxed(tmp_path: Path) -> Settings:
    """Settings for an app that is never started (the document needs no backend, on either store)."""
    return Settings(_env_file=None, environment=Environment.TEST, data_dir=tmp_path, virtuoso_sandbox=True)


@pytest.fixture
def document(sandboxed: Settings) -> dict[str, Any]:
    schema: dict[str, Any] = create_app(sandboxed).openapi()
    return schema


def _body_schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def test_each_operation_declares_exactly_the_statuses_it_answers(document: dict[str, Any]) -> None:
    declared = {
        (method, path): {int(status) for status in operation["responses"]}
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert declared == STATUSES


def test_refusals_are_in_the_envelope_never_in_fastapis_shape(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status in {"401", "403", "413", "415"}:
                    assert answer["content"]["application/json"]["schema"] == ENVELOPE, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_error_details_are_fields_or_what_a_backend_said(document: dict[str, Any]) -> None:
    details = _body_schema(document, "ErrorBody")["properties"]["details"]["anyOf"]
    assert {"type": "array", "items": {"$ref": "#/components/schemas/ErrorDetail"}} in details
    assert {"type": "object", "additionalProperties": True} in details  # Virtuoso's 404, a backend's 503


def test_a_batch_that_failed_answers_the_batch_or_the_envelope(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/v1/commands/batch"]["post"]["responses"]
    for status in ("404", "409", "422", "502", "503"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema["anyOf"] == [ENVELOPE, {"$ref": "#/components/schemas/BatchOutcome"}], status


def test_patch_never_offers_a_null_checkpoint(document: dict[str, Any]) -> None:
    update = _body_schema(document, "SessionUpdate")["properties"]
    assert update["checkpoint_id"] == {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999},
            {"type": "string", "pattern": "^(cp_)?[1-9][0-9]{0,14}$"},
        ],
        "title": "Checkpoint Id",
    }
    assert {"type": "null"} in update["metadata"]["anyOf"]  # null clears the metadata


def test_fields_say_what_the_service_takes(document: dict[str, Any]) -> None:
    command = _body_schema(document, "CommandRequest")["properties"]
    assert command["command"]["enum"] == command_names(with_aliases=True)
    assert command["args"]["items"] == {"type": "string", "maxLength": 20_000}
    key = _body_schema(document, "ApiKeyCreate")["properties"]
    assert key["user_id"]["anyOf"][0] == {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"}
    assert key["expires_in_days"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 3650}
    metadata = _body_schema(document, "SessionCreate")["properties"]["metadata"]
    assert metadata["propertyNames"] == {"minLength": 1, "not": {"pattern": "^(_{2,3}|__[\\s\\S]*__)$"}}
    parameters = document["paths"]["/api/v1/commands"]["post"]["parameters"]
    (idempotency,) = [p for p in parameters if p["name"] == "Idempotency-Key"]
    assert idempotency["schema"]["anyOf"][0] == {"type": "string", "pattern": "^[!-~]{1,255}$"}


async def test_a_request_before_the_services_run_is_a_503_not_a_500(sandboxed: Settings) -> None:
    app: FastAPI = create_app(sandboxed)  # its lifespan never ran: nothing is on app.state
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        gated = await http.get("/api/v1/sessions", headers=auth("vk_anything"))
        ready = await http.get("/health/ready")

    for response in (gated, ready):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["type"] == "service_unavailable"


async def test_an_empty_checkpoint_id_is_no_filter(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key())
    sent = await client.post(
        "/api/v1/commands",
        headers=who,
        json={"command": "step-navigate", "args": ["to", "https://a.example"], "checkpoint_id": 1001},
    )
    assert sent.status_code == 201, sent.text

    empty = await client.get("/api/v1/commands/history?checkpoint_id=", headers=who)
    absent = await client.get("/api/v1/commands/history", headers=who)

    assert empty.status_code == 200, empty.text
    assert [entry["command"] for entry in empty.json()["entries"]] == ["step-navigate"]
    assert empty.json()["entries"] == absent.json()["entries"]
