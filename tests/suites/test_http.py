"""``POST /api/v1/suites/validate`` over HTTP: bodies and uploads in, plans or line-numbered problems
out, in the error envelope; hostile and oversized bodies refused without a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.suites.test_hostile_input import billion_laughs
from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock

URL = "/api/v1/suites/validate"
EXAMPLES = Path(__file__).parent / "examples"
YAML = {"Content-Type": "application/yaml"}


async def test_a_yaml_body_becomes_the_dry_run_plan(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key(Scope.READ))
    body = (EXAMPLES / "rocketshop" / "rocketshop-compact.yaml").read_bytes()
    answer = await client.post(URL, content=body, headers={**who, **YAML})
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert set(plan) == {"name", "dialect", "steps", "warnings"}
    assert (plan["name"], plan["dialect"], len(plan["steps"])) == ("RocketShop Shopping Cart", "compact", 21)
    assert plan["steps"][0] == {"line": 4, "command": "step-interact", "args": ["click", "Add to Bag"]}


async def test_json_bodies_uploads_and_vars(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key(Scope.READ))
    document = {"name": "J", "steps": [{"navigate": "https://{{host}}/"}, {"wait": 2}]}
    answer = await client.post(f"{URL}?var=host=shop.example", json=document, headers=who)
    assert answer.status_code == 200, answer.text
    assert answer.json()["steps"] == [
        {"line": 1, "command": "step-navigate", "args": ["to", "https://shop.example/"]},
        {"line": 1, "command": "step-wait", "args": ["time", "2000"]},
    ]
    assert answer.json()["warnings"][0]["field"] == "steps[1].wait"

    d365 = EXAMPLES / "d365-sales" / "sales-int-001---email-tracking.yaml"
    uploaded = await client.post(
        f"{URL}?var=instance=contoso",
        files={"file": ("../../etc/sales-int-001.yaml", d365.read_bytes(), "application/x-yaml")},
        headers=who,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["name"].startswith("SALES-INT-001")
    assert [w["line"] for w in uploaded.json()["warnings"]] == [22]


async def test_an_invalid_suite_is_422_with_every_line(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key(Scope.READ))
    body = (EXAMPLES / "rocketshop" / "rocketshop-test.yaml").read_bytes()
    answer = await client.post(f"{URL}?filename=rocketshop-test.yaml", content=body, headers={**who, **YAML})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["type"] == "validation_error"
    assert error["message"].startswith("rocketshop-test.yaml:27: steps[5].element_type: limits the check")
    assert error["message"].endswith("(and 1 more problem)")
    assert [(d["line"], d["field"]) for d in error["details"]] == [
        (27, "steps[5].element_type"),
        (79, "steps[16].element_type"),
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (billion_laughs(), "expands to more than"),
        ("[" * 20_000 + "]" * 20_000, "nested deeper than"),
        (
            'name: t\nsteps: [{comment: !!python/object/apply:os.system ["id"]}]\n',
            "is not allowed in a suite",
        ),
        (b"name: t\nsteps: [{comment: \xff}]\n", "is not UTF-8 text"),
    ],
    ids=["billion-laughs", "deep", "python-tag", "not-utf8"],
)
async def test_hostile_yaml_is_a_422_never_a_500(
    client: httpx.AsyncClient, make_key: MakeKey, body: str | bytes, fragment: str
) -> None:
    who = auth(await make_key(Scope.READ))
    answer = await client.post(URL, content=body, headers={**who, **YAML})
    assert answer.status_code == 422, answer.text
    assert fragment in answer.json()["error"]["message"]


async def test_refusals_before_parsing(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    suite = "name: t\nsteps: [{c: x}]\n"
    assert (await client.post(URL, content=suite, headers=YAML)).status_code == 401
    who = auth(await make_key(Scope.READ))
    form = await client.post(
        URL, content=suite, headers={**who, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 415
    assert form.json()["error"]["type"] == "unsupported_media_type"
    assert "multipart/form-data upload (field file)" in form.json()["error"]["message"]
    no_file = await client.post(URL, files={"other": ("x.yaml", b"name: t")}, headers=who)
    assert no_file.status_code == 422
    assert no_file.json()["error"]["details"] == [
        {"field": "file", "reason": "upload the suite as the multipart field named file"}
    ]
    bad_var = await client.post(f"{URL}?var=1x", content=suite, headers={**who, **YAML})
    assert bad_var.status_code == 422
    assert bad_var.json()["error"]["details"][0]["field"] == "var"


@pytest.fixture
async def small_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    application = create_app(settings.model_copy(update={"max_request_bytes": 4096}), clock=ManualClock())
    async with application.router.lifespan_context(application):
        from virtuoso_api.api_keys.models import ApiKeyCreate

        key, _ = await application.state.services.api_keys.create(ApiKeyCreate(name="t", scopes=[Scope.READ]))
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, key


async def test_a_body_over_max_request_bytes_is_413(small_client: tuple[httpx.AsyncClient, str]) -> None:
    http, key = small_client
    big = "name: t\nsteps:\n" + "  - comment: padding padding padding\n" * 200
    answer = await http.post(URL, content=big, headers={**auth(key), **YAML})
    assert answer.status_code == 413
    upload = await http.post(URL, files={"file": ("big.yaml", big.encode())}, headers=auth(key))
    assert upload.status_code == 413
    fits = await http.post(URL, content=json.dumps({"name": "t", "steps": [{"c": "x"}]}), headers=auth(key))
    assert fits.status_code == 200, fits.text


async def test_the_openapi_document_declares_the_bodies(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"][URL]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/yaml",
        "application/json",
        "multipart/form-data",
    }
    assert {"200", "401", "413", "415", "422"} <= set(operation["responses"])
