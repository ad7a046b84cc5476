"""The error envelope, request ids and documentation, for any route."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support import MakeKey, auth


class TestEnvelope:
    async def test_an_unknown_route_answers_in_the_error_shape(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/nowhere")
        assert response.status_code == 404
        body = response.json()
        assert body["error"]["type"] == "not_found"
        assert body["request_id"] == response.headers["X-Request-ID"]

    async def test_a_wrong_method_is_405(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/health/live")
        assert response.status_code == 405
        assert response.json()["error"]["type"] == "method_not_allowed"

    async def test_a_malformed_body_names_each_field(
        self, client: httpx.AsyncClient, make_key: MakeKey
    ) -> None:
        key = await make_key()
        response = await client.post(
            "/api/v1/sessions", headers=auth(key), json={"checkpoint_id": "cp_x", "name": "n" * 300}
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["type"] == "validation_error"
        fields = {detail["field"]: detail["reason"] for detail in error["details"]}
        assert set(fields) == {"checkpoint_id", "name"}
        assert "cp_456" in fields["checkpoint_id"]

    async def test_a_body_that_is_not_json_is_422(self, client: httpx.AsyncClient, make_key: MakeKey) -> None:
        key = await make_key()
        response = await client.post(
            "/api/v1/sessions", headers={**auth(key), "Content-Type": "application/json"}, content=b"{nope"
        )
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "validation_error"

    async def test_a_body_sent_as_a_form_is_415_saying_what_to_send(
        self, client: httpx.AsyncClient, make_key: MakeKey
    ) -> None:
        key = await make_key()
        response = await client.post("/api/v1/sessions", headers=auth(key), data={"checkpoint_id": "1"})
        assert response.status_code == 415
        assert response.json()["error"]["message"].startswith(
            "the body must be JSON, sent with Content-Type: application/json"
        )

    async def test_an_unexpected_failure_is_a_500_without_its_text(self, app: FastAPI) -> None:
        @app.get("/explode")
        async def explode() -> None:
            raise RuntimeError("password=hunter2")

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/explode", headers={"X-Request-ID": "trace-42"})
        assert response.status_code == 500
        assert response.json() == {
            "error": {
                "type": "internal_error",
                "message": "the service failed to handle this request; it has been logged",
            },
            "request_id": "trace-42",
        }
        assert "hunter2" not in response.text


class TestRequestId:
    async def test_a_given_id_is_echoed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live", headers={"X-Request-ID": "ci-run-7.step-3"})
        assert response.headers["X-Request-ID"] == "ci-run-7.step-3"

    async def test_an_id_is_generated_when_missing_or_unsafe(self, client: httpx.AsyncClient) -> None:
        first = await client.get("/health/live")
        second = await client.get("/health/live", headers={"X-Request-ID": "bad id\twith spaces"})
        ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
        assert len(ids) == 2
        assert all(len(i) == 32 and i.isalnum() for i in ids)


class TestDocs:
    async def test_openapi_lists_the_routes_and_docs_are_served(self, client: httpx.AsyncClient) -> None:
        spec = (await client.get("/openapi.json")).json()
        assert {"/api/v1/sessions", "/api/v1/sessions/current", "/api/v1/api-keys", "/health/ready"} <= set(
            spec["paths"]
        )
        assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
        assert (await client.get("/docs")).status_code == 200
