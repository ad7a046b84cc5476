"""Suite runs over HTTP: ``POST /api/v1/suites/runs`` queues a ``suite`` job run by the app's own
dispatcher into the in-process sandbox; ``GET /api/v1/suites/runs/{id}`` answers its progress and
results; ``.../junit`` its JUnit XML. State is read back from the sandbox."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from tests.jobs.conftest import follow
from tests.support import MakeKey, auth
from virtuoso_api.sandbox import FAIL_MARKER
from virtuoso_api.services import Services

SUITE = textwrap.dedent(
    """\
    name: Checkout over HTTP
    starting_url: https://shop.example.com
    steps:
      - click: Add to bag
      - write: {selector: Coupon, text: $code}
      - assert: Total
    """
)


async def _submit(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/v1/suites/runs", headers=headers, json={"suite": SUITE, **body})


async def test_a_suite_runs_as_a_job_and_its_results_are_stored(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    writer = auth(await make_key(name="ci"))
    answer = await _submit(
        client,
        writer,
        filename="ci/checkout.yaml",
        variables={"code": "SAVE10"},
        project="HTTP suites",
        execute=True,
    )
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["kind"] == "suite"
    assert answer.headers["Location"] == f"/api/v1/suites/runs/{accepted['job_id']}"
    job = await follow(client, writer, f"/api/v1/jobs/{accepted['job_id']}")
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 3, "total": 3}

    view = (await client.get(answer.headers["Location"], headers=writer)).json()
    result = view["result"]
    assert (result["source"], result["name"], result["status"]) == (
        "checkout.yaml",
        "Checkout over HTTP",
        "passed",
    )
    assert [(s["line"], s["command"], s["position"], s["success"]) for s in result["steps"]] == [
        (4, "step-interact", 1, True),
        (5, "step-interact", 2, True),
        (6, "step-assert", 3, True),
    ]
    placement = result["placement"]
    (checkpoint,) = placement["checkpoints"]
    stored = await services.virtuoso.client.list_steps(checkpoint["checkpoint_id"])
    assert [step.id for step in stored] == [s["step_id"] for s in result["steps"]]
    assert stored[1].value == "SAVE10"  # $code from the request's variables
    journey = await services.virtuoso.client.get_journey(placement["journey_id"])
    assert [case.id for case in journey.cases][1:] == [checkpoint["checkpoint_id"]]
    assert (result["run"]["outcome"], result["execution_id"]) == ("PASS", result["run"]["execution_id"])

    junit = await client.get(f"{answer.headers['Location']}/junit", headers=writer)
    assert junit.status_code == 200
    assert junit.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(junit.text)
    first = root.find("testsuite")
    assert first is not None
    assert [(c.get("classname"), c.get("name")) for c in first.iter("testcase")] == [
        ("checkout.yaml", "Checkout over HTTP")
    ]
    assert root.get("failures") == "0"


async def test_a_failing_run_fails_the_job_with_the_reason(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    writer = auth(await make_key(name="ci"))
    answer = await client.post(
        "/api/v1/suites/runs",
        headers=writer,
        json={
            "suite": SUITE.replace("Total", f"Total {FAIL_MARKER}"),
            "variables": {"code": "X"},
            "execute": True,
        },
    )
    assert answer.status_code == 202, answer.text
    job = await follow(client, writer, f"/api/v1/jobs/{answer.json()['job_id']}")
    assert job["status"] == "failed"
    assert job["error"]["type"] == "tests_failed"
    view = (await client.get(answer.headers["Location"], headers=writer)).json()
    assert view["result"]["status"] == "failed"
    junit = ET.fromstring((await client.get(f"{answer.headers['Location']}/junit", headers=writer)).text)
    assert int(junit.get("failures") or 0) >= 2  # the file, and the journey


async def test_an_invalid_suite_is_refused_with_its_lines_and_no_job(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    writer = auth(await make_key(name="ci"))
    answer = await client.post(
        "/api/v1/suites/runs", headers=writer, json={"suite": "name: Bad\nsteps:\n  - clack: x\n"}
    )
    assert answer.status_code == 422
    detail = answer.json()["error"]["details"][0]
    assert (detail["line"], detail["field"]) == (3, "steps[0].clack")
    jobs = (await client.get("/api/v1/jobs", headers=writer)).json()["jobs"]
    assert jobs == []
    for body, field in (
        ({"suite": SUITE, "variables": {"no-dash": "x"}}, "variables"),
        ({"suite": SUITE, "checkpoint_id": "abc"}, "checkpoint_id"),
        ({"suite": ""}, "suite"),
        ({"suite": SUITE, "extra": 1}, "extra"),
    ):
        refused = await client.post("/api/v1/suites/runs", headers=writer, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.text


async def test_another_users_run_and_other_jobs_are_not_found(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    owner = auth(await make_key(name="owner", user="owner"))
    other = auth(await make_key(name="other", user="other"))
    answer = await _submit(client, owner, variables={"code": "X"})
    location = answer.headers["Location"]
    assert (await client.get(location, headers=other)).status_code == 404
    assert (await client.get(f"{location}/junit", headers=other)).status_code == 404
    assert (await client.get("/api/v1/suites/runs/job_0000000000000000", headers=owner)).status_code == 404
    batch = await client.post(
        "/api/v1/commands/batch/async",
        headers=owner,
        json={"commands": [{"command": "step-misc", "args": ["comment", "x"]}], "checkpoint_id": 1001},
    )
    not_a_suite = await client.get(f"/api/v1/suites/runs/{batch.json()['job_id']}", headers=owner)
    assert not_a_suite.status_code == 404
    assert "is a batch job" in not_a_suite.text
