"""The seeded demo objects, at their documented ids; and an empty sandbox without them."""

from __future__ import annotations

import httpx

from tests.sandbox.conftest import BASE_URL, TOKEN, comment
from virtuoso_api.sandbox import SEED, create_sandbox_app
from virtuoso_api.sandbox.state import FIRST_ID


async def test_the_seeded_ids_are_the_documented_ones(api: httpx.AsyncClient) -> None:
    projects = (await api.get("/projects", params={"organizationId": 2242})).json()
    assert list(projects["map"]) == ["101"]
    assert projects["map"]["101"]["organizationId"] == SEED.organization_id
    goals = (await api.get("/projects/101/goals")).json()["map"]
    assert goals["201"]["snapshotId"] == 301
    versions = (await api.get("/goals/201/versions")).json()["item"]
    assert [s["snapshotId"] for s in versions["snapshots"]] == [301]
    journey = (await api.get("/testsuites/401")).json()["item"]
    assert [case["id"] for case in journey["cases"]] == [1000, 1001]
    assert [(s["id"], s["action"], s["value"]) for s in journey["cases"][0]["steps"]] == [
        (5000, "NAVIGATE", "https://example.com")
    ]
    assert journey["cases"][1]["steps"] == []


async def test_new_objects_get_ids_above_the_seeded_ones(api: httpx.AsyncClient) -> None:
    created = (await api.post("/teststeps", json=comment("x"))).json()["item"]
    assert created["id"] == FIRST_ID


async def test_another_organization_sees_no_seeded_project(api: httpx.AsyncClient) -> None:
    response = await api.get("/projects", params={"organizationId": 1})
    assert response.json() == {"success": True, "map": {}, "total": 0}


async def test_without_seed_the_sandbox_is_empty() -> None:
    app = create_sandbox_app(token=TOKEN, seed=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        assert (await http.get("/projects")).json()["map"] == {}
        assert (await http.get("/testcases/1001")).status_code == 404


async def test_two_sandboxes_do_not_share_state(api: httpx.AsyncClient) -> None:
    await api.post("/teststeps", json=comment("only here"))
    other = create_sandbox_app(token=TOKEN)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        assert (await http.get("/checkpoints/1001/teststeps")).json()["items"] == []
