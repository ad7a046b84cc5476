"""``virtuoso-api suite run`` against a sandbox in its own process, over a real socket: suite files
into projects, goals, journeys and checkpoints found by name before created; the steps in order; a
re-run that keeps an unchanged file's steps and replaces a changed one's; ``--checkpoint``;
``--execute`` with the exit codes of ``runs``; ``--json`` as the issue states it; JUnit.

State is read back from the sandbox (its projects, journeys and steps), never from our output alone.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from typer.testing import CliRunner, Result

from tests.processes import served_sandbox
from virtuoso_api.app import create_app
from virtuoso_api.cli import app
from virtuoso_api.config import Settings
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind

TOKEN = "cli-suites-token"
runner = CliRunner()

LOGIN = """\
    name: {name}
    starting_url: https://shop.example.com
    variables:
      email: qa@example.com
    steps:
      - click: Sign in
      - write: {{selector: Email, text: "{{{{email}}}}"}}
      - assert: {last}
    """


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with served_sandbox(TOKEN, "--step-seconds", "0.02") as base_url:
        yield base_url


@pytest.fixture
def virtuoso(remote: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[httpx.Client]:
    for name, value in {
        "VIRTUOSO_BASE_URL": remote,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        "VIRTUOSO_RETRY_ATTEMPTS": "1",
        "DATA_DIR": str(tmp_path / "data"),
        "RUN_POLL_SECONDS": "0.02",
        "RUN_POLL_MAX_SECONDS": "0.1",
    }.items():
        monkeypatch.setenv(name, value)
    with httpx.Client(base_url=remote, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _login(tmp_path: Path, name: str, *, last: str = "Welcome", file: str = "login.yaml") -> Path:
    return _file(tmp_path, file, LOGIN.format(name=name, last=last))


def _suite(*args: str | Path) -> Result:
    return runner.invoke(app, ["suite", "run", *map(str, args)])


def _projects(virtuoso: httpx.Client, name: str) -> list[dict[str, Any]]:
    found = virtuoso.get("/projects", params={"limit": 1000}).json()["map"].values()
    return [project for project in found if project["name"] == name]


def _journey(virtuoso: httpx.Client, journey_id: int) -> dict[str, Any]:
    item: dict[str, Any] = virtuoso.get(f"/testsuites/{journey_id}").json()["item"]
    return item


def test_a_file_becomes_a_journey_with_its_steps_in_order_and_json_as_documented(
    virtuoso: httpx.Client, tmp_path: Path
) -> None:
    path = _login(tmp_path, "Login A")
    result = _suite(path, "--project", "Suites A", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"project_id", "goal_id", "journey_id", "checkpoint_ids", "steps", "run", "report"}
    assert printed["run"] is None
    assert [set(step) for step in printed["steps"]] == [
        {"line", "command", "position", "step_id", "success", "error"}
    ] * 3
    assert [(s["line"], s["command"], s["position"], s["success"]) for s in printed["steps"]] == [
        (6, "step-interact", 1, True),
        (7, "step-interact", 2, True),
        (8, "step-assert", 3, True),
    ]
    (project,) = _projects(virtuoso, "Suites A")
    assert project["id"] == printed["project_id"]
    goal = virtuoso.get(f"/goals/{printed['goal_id']}").json()["item"]
    assert (goal["name"], goal["url"], goal["projectId"]) == (
        "Login A",
        "https://shop.example.com",
        project["id"],
    )
    journey = _journey(virtuoso, printed["journey_id"])
    assert journey["title"] == "Login A"
    # The goal's navigation first, then the suite's checkpoint, attached to the journey.
    assert [case["id"] for case in journey["cases"]][1:] == printed["checkpoint_ids"]
    steps = journey["cases"][1]["steps"]
    assert [step["id"] for step in steps] == [s["step_id"] for s in printed["steps"]]
    assert [step["action"] for step in steps] == ["CLICK", "WRITE", "ASSERT_EXISTS"]
    assert steps[1]["value"] == "qa@example.com"  # {{email}} filled in from the file's variables


def test_running_a_file_twice_reuses_everything_and_replaces_changed_steps(
    virtuoso: httpx.Client, tmp_path: Path
) -> None:
    path = _login(tmp_path, "Login B")
    first = json.loads(_suite(path, "--project", "Suites B", "--json").stdout)
    again = _suite(path, "--project", "Suites B", "--json")
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    # Same project, goal, journey and checkpoint; an unchanged file keeps its steps as they are.
    assert {k: second[k] for k in ("project_id", "goal_id", "journey_id", "checkpoint_ids")} == {
        k: first[k] for k in ("project_id", "goal_id", "journey_id", "checkpoint_ids")
    }
    assert [s["step_id"] for s in second["steps"]] == [s["step_id"] for s in first["steps"]]
    assert len(_projects(virtuoso, "Suites B")) == 1
    goals = virtuoso.get(f"/projects/{first['project_id']}/goals").json()["map"]
    assert len(goals) == 1

    changed = _login(tmp_path, "Login B", last="Welcome back")
    third = _suite(changed, "--project", "Suites B")
    assert third.exit_code == 0, third.output
    assert "3 steps of an earlier run replaced" in third.stdout
    journey = _journey(virtuoso, first["journey_id"])
    assert len(journey["cases"]) == 2  # no second checkpoint beside the first
    steps = journey["cases"][1]["steps"]
    assert "Welcome back" in json.dumps(steps[-1]["element"])
    assert len(steps) == 3
    assert not {step["id"] for step in steps} & {s["step_id"] for s in first["steps"]}


def test_checkpoint_appends_to_an_existing_checkpoint(virtuoso: httpx.Client, tmp_path: Path) -> None:
    before = virtuoso.get(f"/checkpoints/{SEED.checkpoint_id}/teststeps").json()["items"]
    path = _login(tmp_path, "Login C")
    result = _suite(path, "--checkpoint", str(SEED.checkpoint_id), "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["checkpoint_ids"] == [SEED.checkpoint_id]
    assert (printed["project_id"], printed["goal_id"], printed["journey_id"]) == (
        SEED.project_id,
        SEED.goal_id,
        SEED.journey_id,
    )
    after = virtuoso.get(f"/checkpoints/{SEED.checkpoint_id}/teststeps").json()["items"]
    assert [step["id"] for step in after[: len(before)]] == [step["id"] for step in before]
    assert [step["id"] for step in after[len(before) :]] == [s["step_id"] for s in printed["steps"]]


def test_execute_passes_with_exit_0_and_writes_junit(
    virtuoso: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _login(tmp_path, "Login D1", file="d1.yaml")
    _login(tmp_path, "Login D2", file="d2.yaml")
    one, two = "d1.yaml", "d2.yaml"
    report = tmp_path / "suites.xml"
    result = _suite(one, two, "--project", "Suites D", "--execute", "--junit", report)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("PASSED") == 2
    assert f"JUnit XML written to {report}" in result.stderr
    assert len(_projects(virtuoso, "Suites D")) == 1  # two files at once, one project
    root = ET.parse(report).getroot()
    suites = root.findall("testsuite")
    assert suites[0].get("name") == "Virtuoso API suites"
    assert [(c.get("classname"), c.get("name")) for c in suites[0].iter("testcase")] == [
        (one, "Login D1"),
        (two, "Login D2"),
    ]
    assert len(suites) == 3  # the files, then one per run
    journeys = [case.get("name") for suite in suites[1:] for case in suite.iter("testcase")]
    assert "Login D1" in journeys
    assert "Login D2" in journeys
    assert root.get("failures") == "0"


def test_a_failing_run_exits_1_and_json_carries_its_outcome(virtuoso: httpx.Client, tmp_path: Path) -> None:
    path = _login(tmp_path, "Login E", last=f"Welcome {FAIL_MARKER}")
    result = _suite(path, "--project", "Suites E", "--execute", "--json")
    assert result.exit_code == 1, result.output
    printed = json.loads(result.stdout)
    assert (printed["run"]["status"], printed["run"]["outcome"], printed["run"]["verdict"]) == (
        "FINISHED",
        "FAIL",
        "failed",
    )


def test_an_unknown_checkpoint_or_project_id_exits_2(virtuoso: httpx.Client, tmp_path: Path) -> None:
    path = _login(tmp_path, "Login F")
    result = _suite(path, "--checkpoint", "999999", "--json")
    assert result.exit_code == 2, result.output
    assert "checkpoint 999999" in result.stderr
    assert json.loads(result.stdout)["steps"] == []
    result = _suite(path, "--project", "999999")
    assert result.exit_code == 2, result.output
    assert "project 999999 not found" in result.stderr


def test_steps_into_a_checkpoint_of_no_journey_go_in_but_cannot_execute_exit_3(
    virtuoso: httpx.Client, tmp_path: Path
) -> None:
    goal = virtuoso.post(
        "/goals",
        json={"projectId": SEED.project_id, "name": "F2", "url": "https://x", "createFirstJourney": True},
    ).json()["item"]
    checkpoint = virtuoso.post(
        "/testcases", json={"goalId": goal["id"], "snapshotId": goal["snapshotId"], "title": "gone"}
    ).json()["item"]["id"]
    path = _file(
        tmp_path,
        "f2.yaml",
        "name: F2\nsteps:\n  - click: One\n  - click: Two\n",
    )
    result = _suite(path, "--checkpoint", str(checkpoint), "--execute", "--json")
    assert result.exit_code == 3, result.output
    printed = json.loads(result.stdout)
    assert [s["success"] for s in printed["steps"]] == [True, True]
    assert (printed["journey_id"], printed["run"]) == (None, None)
    assert f"checkpoint {checkpoint} is in no journey" in result.stderr
    stored = virtuoso.get(f"/checkpoints/{checkpoint}/teststeps").json()["items"]
    assert [step["id"] for step in stored] == [s["step_id"] for s in printed["steps"]]


def test_an_invalid_file_touches_nothing_and_exits_2(virtuoso: httpx.Client, tmp_path: Path) -> None:
    good = _login(tmp_path, "Login G")
    bad = _file(tmp_path, "bad.yaml", "name: Bad\nsteps:\n  - clack: Sign in\n")
    before = len(virtuoso.get("/projects", params={"limit": 1000}).json()["map"])
    result = _suite(good, bad, "--project", "Suites G")
    assert result.exit_code == 2, result.output
    assert f"{bad}:3:" in result.stderr
    assert len(virtuoso.get("/projects", params={"limit": 1000}).json()["map"]) == before


def test_two_files_for_one_journey_are_refused_before_anything(
    virtuoso: httpx.Client, tmp_path: Path
) -> None:
    one = _login(tmp_path, "Same name", file="one.yaml")
    two = _login(tmp_path, "Same name", file="two.yaml")
    result = _suite(one, two, "--project", "Suites H")
    assert result.exit_code == 2, result.output
    assert "would go to the same journey ('Same name')" in result.stderr
    assert _projects(virtuoso, "Suites H") == []


def _stored_report(name: str) -> bytes | None:
    """A blob of the results bucket, read from the data folder the CLI wrote to (DATA_DIR)."""

    async def work() -> bytes | None:
        async with Services.running(Settings(_env_file=None)) as services:
            storage = services.storage
            try:
                return (await storage.store.get(storage.buckets[BucketKind.RESULTS], name)).data
            except Exception:
                return None

    return asyncio.run(work())


def _opened(link: str) -> httpx.Response:
    """The link opened as a browser would, served by the app on the same data folder."""
    settings = Settings(_env_file=None)
    assert link.startswith(settings.links_base_url + "/files/")
    parts = urlsplit(link)

    async def work() -> httpx.Response:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await http.get(f"{parts.path}?{parts.query}")

    return asyncio.run(work())


def test_each_file_s_report_is_published_as_a_suite_job_publishes_it_and_its_link_opens(
    virtuoso: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _login(tmp_path, "Login R1", file="r1.yaml")
    _login(tmp_path, "Login R2", last=f"Welcome {FAIL_MARKER}", file="r2.yaml")
    summary = _suite("r1.yaml", "r2.yaml", "--project", "Suites R", "--execute")
    assert summary.exit_code == 1, summary.output
    links = dict(re.findall(r"^(r[12]\.yaml): report (\S+)$", summary.stdout, flags=re.MULTILINE))
    assert set(links) == {"r1.yaml", "r2.yaml"}
    for file, title, outcome in (("r1.yaml", "Login R1", "passed"), ("r2.yaml", "Login R2", "failed")):
        folder = urlsplit(links[file]).path.split("/files/", 1)[1].split("/", 1)[1].rsplit("/", 1)[0]
        assert folder.startswith("suite-runs/")
        stored = json.loads(_stored_report(f"{folder}/result.json") or b"null")
        assert stored is not None, f"no result JSON stored for {file}"
        assert _stored_report(f"{folder}/junit.xml")
        page = _opened(links[file])
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert title in page.text
        assert (stored["kind"], stored["title"], stored["outcome"]) == ("suite-run", title, outcome)
    tampered = _opened(links["r1.yaml"].replace("sig=", "sig=0"))
    assert tampered.status_code == 403

    as_json = _suite("r1.yaml", "--project", "Suites R", "--execute", "--json")
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert _opened(document["report"]).status_code == 200
