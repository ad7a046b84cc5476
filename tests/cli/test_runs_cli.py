"""``virtuoso-api runs`` against a sandbox in its own process, over a real socket: the exit codes CI
relies on (0 passed, 1 tests failed, 2 bad input or configuration, 3 did not complete), progress on
stderr, the summary or JSON on stdout, and JUnit XML.

The sandbox runs on its own (system) clock with short steps, and the CLI polls often: the tests
wait for runs that take a fraction of a second, and assert on outcomes, never on durations."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from tests.processes import free_port, served_sandbox
from virtuoso_api.cli import app
from virtuoso_api.config import Settings
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.services import Services

TOKEN = "cli-runs-token"
runner = CliRunner()


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with served_sandbox(TOKEN, "--step-seconds", "0.02") as base_url:
        yield base_url


@pytest.fixture
def virtuoso(remote: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[httpx.Client]:
    """The environment that points the CLI at the served sandbox, and a client to arrange its data."""
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


def _runs(*args: str) -> Result:
    return runner.invoke(app, ["runs", *args])


def _goal_with_steps(virtuoso: httpx.Client, *texts: str) -> int:
    """A new goal (one journey, "Journey 1") whose checkpoint has a comment step per text."""
    goal = virtuoso.post(
        "/goals",
        json={"projectId": SEED.project_id, "name": "CLI", "url": "https://x", "createFirstJourney": True},
    ).json()["item"]
    journeys = virtuoso.get(f"/snapshots/{goal['snapshotId']}/goals/{goal['id']}/testsuites").json()["map"]
    checkpoint = next(iter(journeys.values()))["cases"][0]["id"]
    for index, text in enumerate(texts, start=2):
        step = {
            "checkpointId": checkpoint,
            "stepIndex": index,
            "parsedStep": {"action": "COMMENT", "value": text},
        }
        assert virtuoso.post("/teststeps", json=step).status_code == 200
    goal_id: int = goal["id"]
    return goal_id


def test_a_passing_goal_exits_0_with_progress_and_a_summary(virtuoso: httpx.Client) -> None:
    goal_id = _goal_with_steps(virtuoso, "fine")
    result = _runs("start", "--goal", str(goal_id), "--wait")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Started run ")
    execution_id = int(lines[0].split()[2])
    assert lines[1:4] == [
        f"Run {execution_id} (goal {goal_id}): PASSED",
        "  status FINISHED, outcome PASS",
        "  1 journey: PASS 1, FAIL 0",
    ]
    assert lines[4].startswith("  duration ")
    assert lines[5] == "  no UI link (set VIRTUOSO_UI_URL for this Virtuoso)"
    assert f"run {execution_id}: FINISHED 100% outcome PASS  PASS 1" in result.stderr


def test_failing_tests_exit_1_and_junit_has_a_case_per_journey_and_step(
    virtuoso: httpx.Client, tmp_path: Path
) -> None:
    goal_id = _goal_with_steps(virtuoso, "fine", f"boom {FAIL_MARKER}", "never reached")
    report = tmp_path / "reports" / "virtuoso.xml"
    report.parent.mkdir()
    result = _runs(
        "start",
        "--goal",
        str(goal_id),
        "--journey",
        "Journey 1",
        "--tag",
        "ci",
        "--wait",
        "--junit",
        str(report),
    )
    assert result.exit_code == 1, result.output
    assert "FAILED (tests failed)" in result.stdout
    assert f"JUnit XML written to {report}" in result.stderr
    root = ET.parse(report).getroot()
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("skipped")) == (
        "testsuites",
        "5",
        "2",
        "1",
    )
    names = [case.get("name", "") for case in root.iter("testcase")]
    assert names[0] == "Journey 1"
    assert [name.split(" (")[0] for name in names[1:]] == [
        f"Navigate to https://x / step {n} {action}"
        for n, action in [(1, "NAVIGATE"), (2, "COMMENT"), (3, "COMMENT"), (4, "COMMENT")]
    ]
    assert list(report.parent.iterdir()) == [report]  # written whole, no temporary file left


def test_a_plan_as_json(virtuoso: httpx.Client) -> None:
    result = _runs("start", "--plan", str(SEED.plan_id), "--wait", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 0
    assert payload["started"]["kind"] == "plan"
    (run,) = payload["runs"]
    assert (run["goal_id"], run["status"], run["outcome"], run["verdict"]) == (
        SEED.goal_id,
        "FINISHED",
        "PASS",
        "passed",
    )
    assert run["counts"]["PASS"] == 1


def test_a_cancelled_run_exits_3(virtuoso: httpx.Client, remote: str) -> None:
    goal_id = _goal_with_steps(virtuoso, *[f"step {n}" for n in range(200)])  # 4 s at 0.02 s a step
    started = _runs("start", "--goal", str(goal_id), "--json")
    assert started.exit_code == 0, started.output
    (execution_id,) = json.loads(started.stdout)["execution_ids"]
    control = remote.removesuffix("/api") + f"/_sandbox/executions/{execution_id}/cancel"
    assert virtuoso.post(control).status_code == 200
    result = _runs("status", str(execution_id), "--wait")
    assert result.exit_code == 3, result.output
    assert f"Run {execution_id} (goal {goal_id}): DID NOT COMPLETE" in result.stdout
    assert "status CANCELED" in result.stdout


def test_a_run_still_going_when_the_timeout_passes_exits_3(
    virtuoso: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sandbox whose runs take minutes: on the shared one a loaded machine could see the run end
    # before the zero timeout's one status read.
    with served_sandbox(TOKEN, "--step-seconds", "60") as base_url:
        monkeypatch.setenv("VIRTUOSO_BASE_URL", base_url)
        result = _runs("start", "--goal", str(SEED.goal_id), "--wait", "--timeout", "0")
        assert result.exit_code == 3, result.output
        assert "NOT ENDED" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --goal or --plan"),
        (("--goal", "1", "--plan", "2"), "give exactly one of --goal or --plan"),
        (("--plan", "501", "--tag", "x"), "use them with --goal"),
        (("--goal", "201", "--junit", "x.xml"), "--junit needs --wait"),
        (("--goal", "201", "--timeout", "5"), "--timeout needs --wait"),
        (("--goal", "201", "--wait", "--timeout", "inf"), "--timeout must be a number of seconds, got inf"),
        (("--goal", "201", "--wait", "--timeout", "-1"), "--timeout"),
        (("--goal", "999999"), "goal 999999 was not found in Virtuoso"),
        (("--goal", "201", "--journey", "Nope"), "--journey: no journey 'Nope' in goal 201"),
        (("--goal", "201", "--tag", "x" * 101), "--tag: String should have at most 100 characters"),
    ],
)
def test_bad_input_exits_2_saying_what_is_wrong(
    virtuoso: httpx.Client, args: tuple[str, ...], message: str
) -> None:
    result = _runs("start", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_status_of_an_unknown_or_malformed_run_exits_2(virtuoso: httpx.Client) -> None:
    assert _runs("status", "999999").exit_code == 2
    assert _runs("status", "abc").exit_code == 2
    assert _runs("status", "0").exit_code == 2


def test_a_refused_token_exits_2_and_an_unreachable_virtuoso_exits_3(
    virtuoso: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTUOSO_API_TOKEN", "not-the-token")
    refused = _runs("start", "--goal", "201")
    assert refused.exit_code == 2
    assert "VIRTUOSO_API_TOKEN" in refused.stderr
    assert "not-the-token" not in refused.output
    monkeypatch.setenv("VIRTUOSO_BASE_URL", f"http://127.0.0.1:{free_port()}/api")
    unreachable = _runs("start", "--goal", "201", "--wait")
    assert unreachable.exit_code == 3
    assert "virtuoso is unavailable" in unreachable.stderr


def test_no_virtuoso_configured_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _runs("status", "1")
    assert result.exit_code == 2
    assert "set VIRTUOSO_API_TOKEN" in result.stderr


def test_runs_started_from_the_cli_are_recorded(virtuoso: httpx.Client) -> None:
    result = _runs("start", "--goal", str(SEED.goal_id), "--wait", "--json")
    assert result.exit_code == 0, result.output
    (execution_id,) = json.loads(result.stdout)["started"]["execution_ids"]

    async def recorded() -> list[dict[str, Any]]:
        async with Services.running(Settings()) as services:
            page = await services.runs.list(user_id="cli", goal_id=None, limit=10)
            return [record.model_dump(mode="json") for record in page.runs]

    (record,) = asyncio.run(recorded())
    assert (record["execution_id"], record["source"], record["user_id"], record["verdict"]) == (
        execution_id,
        "cli",
        "cli",
        "passed",
    )


def test_a_junit_path_that_cannot_be_written_exits_2_after_the_run(
    virtuoso: httpx.Client, tmp_path: Path
) -> None:
    result = _runs(
        "start", "--goal", str(SEED.goal_id), "--wait", "--junit", str(tmp_path / "missing" / "x.xml")
    )
    assert result.exit_code == 2, result.output
    assert "--junit" in result.stderr
    assert "No such file or directory" in result.stderr
