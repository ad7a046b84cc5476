"""Each answer Virtuoso may give becomes the right error, with no token in it, rendered by our handler."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.virtuoso._upstream import Answer, Upstream
from tests.virtuoso.conftest import TOKEN, UpstreamClient
from virtuoso_api.errors import BackendUnavailable, InvalidInput, NotFound, UpstreamRejected
from virtuoso_api.http.errors import install_error_handlers
from virtuoso_api.virtuoso import (
    VirtuosoAuthFailed,
    VirtuosoError,
    VirtuosoNotFound,
    VirtuosoProtocolError,
    VirtuosoRejected,
    VirtuosoUnavailable,
)
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, StepCreate

ECHO = f"token Bearer {TOKEN} is not valid"


def _everything_said(exc: VirtuosoError) -> str:
    return f"{exc} {exc.message} {exc.details!r} {exc.headers!r} {exc.args!r}"


async def test_the_headers_virtuoso_expects_are_sent(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(body={"success": True, "item": {"id": 5, "name": "Shop"}}))
    await upstream_client(upstream).create_project("Shop")
    seen = upstream.requests[0]
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["x-virtuoso-client-id"] == "ci-runner"
    assert seen.headers["x-virtuoso-client-name"] == "nightly"
    assert seen.headers["content-type"] == "application/json"
    assert (seen.method, seen.path) == ("POST", "/api/projects")
    assert seen.json() == {"name": "Shop", "organizationId": 2242}


async def test_project_listing_sends_the_organization(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(body={"success": True, "map": {}}))
    await upstream_client(upstream).list_projects(limit=5)
    assert upstream.requests[0].query == "limit=5&offset=0&organizationId=2242"


async def test_creating_a_project_without_an_organization_sends_nothing(
    upstream_client: UpstreamClient,
) -> None:
    upstream = Upstream()
    with pytest.raises(InvalidInput, match="VIRTUOSO_ORG_ID"):
        await upstream_client(upstream, org_id=None).create_project("Shop")
    assert upstream.requests == []


async def test_a_4xx_is_rejected_with_virtuosos_status_and_message(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(400, {"success": False, "error": {"code": "E_NAME", "message": "name taken"}}))
    with pytest.raises(VirtuosoRejected) as caught:
        await upstream_client(upstream).create_project("Shop")
    error = caught.value
    assert isinstance(error, UpstreamRejected)
    assert (error.status_code, error.error_type) == (502, "upstream_rejected")
    assert error.details == {
        "request": "POST /projects",
        "status": 400,
        "message": "name taken",
        "code": "E_NAME",
    }
    assert "name taken" in error.message


async def test_a_404_names_the_resource_and_answers_404(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(404, {"success": False, "error": "Not found"}))
    with pytest.raises(VirtuosoNotFound) as caught:
        await upstream_client(upstream).get_checkpoint(123)
    error = caught.value
    assert error.message == "checkpoint 123 was not found in Virtuoso"
    assert isinstance(error, NotFound)
    assert isinstance(error, VirtuosoRejected)
    assert (error.status_code, error.error_type) == (404, "not_found")


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_point_at_the_setting_and_never_echo_the_token(
    upstream_client: UpstreamClient, status: int
) -> None:
    upstream = Upstream(Answer(status, {"success": False, "error": ECHO}))
    with pytest.raises(VirtuosoAuthFailed) as caught:
        await upstream_client(upstream).list_projects()
    error = caught.value
    assert error.status_code == 502
    assert "VIRTUOSO_API_TOKEN" in error.message
    assert error.upstream_status == status
    assert TOKEN not in _everything_said(error)
    assert "***" in str(error.details)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_is_unavailable_keeping_the_upstream_status(
    upstream_client: UpstreamClient, status: int
) -> None:
    upstream = Upstream(Answer(status, raw=f"<html>gateway said {TOKEN}</html>".encode()))
    with pytest.raises(VirtuosoUnavailable) as caught:
        await upstream_client(upstream).get_step(9)
    error = caught.value
    assert isinstance(error, BackendUnavailable)
    assert (error.status_code, error.backend, error.upstream_status) == (503, "virtuoso", status)
    assert error.details == {"backend": "virtuoso", "status": status}
    assert f"answered {status}" in error.message
    assert TOKEN not in _everything_said(error)


async def test_a_429_is_unavailable_and_passes_retry_after_on(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(429, {"error": "slow down"}, headers={"Retry-After": "7"}))
    with pytest.raises(VirtuosoUnavailable) as caught:
        await upstream_client(upstream).get_step(9)
    assert caught.value.upstream_status == 429
    assert caught.value.headers["Retry-After"] == "7"


async def test_success_false_on_a_200_is_a_rejection(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(200, {"success": False, "error": "journey is archived"}))
    with pytest.raises(VirtuosoRejected) as caught:
        await upstream_client(upstream).update_journey(4, title="x")
    assert caught.value.upstream_status == 200
    assert caught.value.upstream_message == "journey is archived"


async def test_a_2xx_that_is_not_json_is_a_protocol_error(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(200, raw=b"<html>maintenance</html>"))
    with pytest.raises(VirtuosoProtocolError) as caught:
        await upstream_client(upstream).get_step(9)
    assert caught.value.status_code == 502
    assert caught.value.details == {"request": "GET /teststeps/9"}


@pytest.mark.parametrize(
    ("body", "expected_id"),
    [
        ({"item": {"id": 11, "stepIndex": 1}}, 11),
        ({"testStep": {"id": 22, "checkpointId": 1001}}, 22),
        ({"id": 33}, 33),
    ],
)
async def test_a_created_steps_id_is_read_from_where_virtuoso_put_it(
    upstream_client: UpstreamClient, body: object, expected_id: int
) -> None:
    upstream = Upstream(Answer(200, body))
    step = StepCreate(checkpoint_id=1001, step_index=1, parsed_step=ParsedStep(action=StepAction.COMMENT))
    created = await upstream_client(upstream).create_step(step)
    assert created.id == expected_id
    seen = upstream.requests[0]
    assert (seen.path, seen.query) == ("/api/teststeps", "envelope=false")
    assert seen.json() == {
        "checkpointId": 1001,
        "stepIndex": 1,
        "parsedStep": {"action": "COMMENT", "value": "", "meta": {}},
    }


async def test_a_created_step_without_an_id_is_an_error_not_a_made_up_id(
    upstream_client: UpstreamClient,
) -> None:
    upstream = Upstream(Answer(200, {"success": True, "item": {"id": 0}}))
    step = StepCreate(checkpoint_id=1001, step_index=1, parsed_step=ParsedStep(action=StepAction.COMMENT))
    with pytest.raises(VirtuosoProtocolError, match="without the new step's id"):
        await upstream_client(upstream).create_step(step)


@pytest.mark.parametrize(
    ("error", "status", "error_type"),
    [
        (
            VirtuosoNotFound(
                "checkpoint 5 was not found in Virtuoso",
                request="GET /testcases/5",
                upstream_status=404,
                upstream_message="nope",
            ),
            404,
            "not_found",
        ),
        (
            VirtuosoAuthFailed(
                "check VIRTUOSO_API_TOKEN",
                request="GET /projects",
                upstream_status=401,
                upstream_message="bad",
            ),
            502,
            "upstream_rejected",
        ),
        (
            VirtuosoUnavailable("GET /projects answered 503: down", upstream_status=503),
            503,
            "service_unavailable",
        ),
        (VirtuosoProtocolError("no id", request="POST /teststeps"), 502, "upstream_rejected"),
    ],
)
async def test_the_services_error_handler_renders_them(
    error: VirtuosoError, status: int, error_type: str
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as http:
        response = await http.get("/boom")
    assert response.status_code == status
    body = response.json()["error"]
    assert (body["type"], body["message"]) == (error_type, error.message)
    assert body["details"] == error.details
    if status == 503:
        assert response.headers["Retry-After"] == "5"
