"""The CLI as a client of a deployed service: with ``VIRTUOSO_API_SERVER`` and ``VIRTUOSO_API_KEY`` set,
``exec``, ``runs`` and ``jobs`` go to a served ``virtuoso-api serve`` over HTTP, holding no Virtuoso
token and opening no store of their own, and print and exit as they do when they do the work
themselves (each case is run both ways against the same sandbox and compared)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from tests.processes import CLI, free_port, running
from virtuoso_api.cli import app
from virtuoso_api.sandbox import FAIL_MARKER, SEED

pytestmark = pytest.mark.timeout(180)

TOKEN = "remote-cli-token"
runner = CliRunner()
FAST_RUNS = {"RUN_POLL_SECONDS": "0.02", "RUN_POLL_MAX_SECONDS": "0.1", "VIRTUOSO_RETRY_ATTEMPTS": "1"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/api"
    with running(
        "sandbox",
        *("--port", str(port), "--token", TOKEN, "--step-seconds", "0.02"),
        ready=f"{base_url}/projects",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ):
        yield base_url


@pytest.fixture(scope="module")
def served(sandbox: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``virtuoso-api serve`` talking to the sandbox, and a key of it: (URL, key)."""
    data = tmp_path_factory.mktemp("server")
    env = {
        "DATA_DIR": str(data),
        "VIRTUOSO_BASE_URL": sandbox,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        **FAST_RUNS,
    }
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", "ci", "--scopes", "read,write", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
        timeout=60,
    )
    key = json.loads(made.stdout)["key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        (data / "serve.log").open("w+b") as log,
        running("serve", "--port", str(port), ready=f"{base}/health/live", env=env, output=log),
    ):
        yield base, key


@pytest.fixture
def client_dir(tmp_path: Path) -> Path:
    return tmp_path / "ci-runner"


def remotely(served: tuple[str, str], client_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner's environment: the service and its key, no Virtuoso token, a data folder of its own."""
    monkeypatch.setenv("VIRTUOSO_API_SERVER", served[0])
    monkeypatch.setenv("VIRTUOSO_API_KEY", served[1])
    monkeypatch.setenv("DATA_DIR", str(client_dir))
    for name in ("VIRTUOSO_API_TOKEN", "VIRTUOSO_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def locally(sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "VIRTUOSO_BASE_URL": sandbox,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        "DATA_DIR": str(tmp_path / "local"),
        **FAST_RUNS,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("VIRTUOSO_API_SERVER", "VIRTUOSO_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def both(
    served: tuple[str, str],
    sandbox: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[Result, Result]:
    """(through the service, done here) for one command line."""
    remotely(served, tmp_path / "ci-runner", monkeypatch)
    remote = cli(*args)
    locally(sandbox, tmp_path, monkeypatch)
    local = cli(*args)
    return remote, local


def shape(text: str) -> str:
    """Output with ids, positions and durations as N: what must not differ between the two ways."""
    return re.sub(r"\d+(\.\d+)?", "N", text)


def test_a_step_goes_through_the_service_and_prints_as_it_does_locally(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("exec", "step-misc", "comment", "from CI", "--checkpoint", "1001")
    remote, local = both(served, sandbox, tmp_path, monkeypatch, *args)
    assert remote.exit_code == local.exit_code == 0, remote.output + local.output
    assert shape(remote.stdout) == shape(local.stdout)
    assert remote.stdout.startswith("Step ")
    # Through the service: it recorded the command, and the runner opened no store of its own.
    assert not (tmp_path / "ci-runner").exists()
    history = httpx.get(
        f"{served[0]}/api/v1/commands/history", headers={"X-API-Key": served[1]}, params={"limit": 50}
    ).json()
    assert "from CI" in json.dumps(history)


def test_a_refused_command_exits_2_with_the_same_message(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, local = both(served, sandbox, tmp_path, monkeypatch, "exec", "step-fly", "--checkpoint", "1001")
    assert remote.exit_code == local.exit_code == 2
    assert remote.stderr == local.stderr
    assert remote.stderr.startswith("error: ")


def test_a_passing_goal_exits_0_and_a_failing_one_1_with_junit(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, local = both(
        served, sandbox, tmp_path, monkeypatch, "runs", "start", "--goal", str(SEED.goal_id), "--wait"
    )
    assert remote.exit_code == local.exit_code == 0, remote.output + local.output
    assert shape(remote.stdout) == shape(local.stdout)

    virtuoso = httpx.Client(base_url=sandbox, headers={"Authorization": f"Bearer {TOKEN}"})
    goal = virtuoso.post(
        "/goals",
        json={"projectId": SEED.project_id, "name": "CI", "url": "https://x", "createFirstJourney": True},
    ).json()["item"]
    journeys = virtuoso.get(f"/snapshots/{goal['snapshotId']}/goals/{goal['id']}/testsuites").json()["map"]
    checkpoint = next(iter(journeys.values()))["cases"][0]["id"]
    step = {
        "checkpointId": checkpoint,
        "stepIndex": 2,
        "parsedStep": {"action": "COMMENT", "value": FAIL_MARKER},
    }
    assert virtuoso.post("/teststeps", json=step).status_code == 200
    virtuoso.close()
    report = tmp_path / "junit.xml"
    args = ("runs", "start", "--goal", str(goal["id"]), "--wait", "--junit", str(report))
    remotely(served, tmp_path / "ci-runner", monkeypatch)
    failed = cli(*args)
    assert failed.exit_code == 1, failed.output
    assert "FAILED (tests failed)" in failed.stdout
    cases = ET.parse(report).getroot().iter("testcase")
    assert any(case.find("failure") is not None for case in cases)


def test_an_unknown_run_exits_2_both_ways(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, local = both(served, sandbox, tmp_path, monkeypatch, "runs", "status", "999999")
    assert remote.exit_code == local.exit_code == 2
    assert remote.stderr == local.stderr


def test_a_job_submitted_to_the_service_is_followed_and_shown_through_it(
    served: tuple[str, str], client_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"command": "step-misc", "args": ["comment", "queued"], "checkpoint_id": 1001}
    accepted = httpx.post(f"{served[0]}/api/v1/commands/async", json=body, headers={"X-API-Key": served[1]})
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    remotely(served, client_dir, monkeypatch)
    waited = cli("jobs", "wait", job_id, "--json", "--interval", "0.1", "--timeout", "60")
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["status"] == "succeeded"
    listed = cli("jobs", "list", "--json")
    assert job_id in [job["job_id"] for job in json.loads(listed.stdout)["jobs"]]
    shown = cli("jobs", "show", job_id)
    assert shown.stdout.startswith(job_id)
    assert cli("jobs", "cancel", job_id).exit_code == 1  # finished: 409, a failure, as locally


def test_an_unknown_job_exits_3_both_ways(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, local = both(served, sandbox, tmp_path, monkeypatch, "jobs", "show", "job_0000000000000000")
    assert remote.exit_code == local.exit_code == 3


def test_a_wrong_key_exits_4_and_an_unreachable_service_5_or_3_for_runs(
    served: tuple[str, str], client_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remotely(served, client_dir, monkeypatch)
    monkeypatch.setenv("VIRTUOSO_API_KEY", "vk_not-a-key-of-this-service")
    refused = cli("exec", "step-misc", "comment", "x", "--checkpoint", "1001")
    assert refused.exit_code == 4
    assert "vk_not-a-key-of-this-service" not in refused.output  # a key is never echoed
    monkeypatch.setenv("VIRTUOSO_API_SERVER", f"http://127.0.0.1:{free_port()}")
    down = cli("exec", "step-misc", "comment", "x", "--checkpoint", "1001")
    assert down.exit_code == 5
    assert "unreachable" in down.stderr
    assert cli("runs", "status", "1").exit_code == 3  # runs: "did not complete", for CI


def test_a_server_without_a_key_is_a_usage_error(client_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(client_dir))
    monkeypatch.setenv("VIRTUOSO_API_SERVER", "http://127.0.0.1:9")
    monkeypatch.delenv("VIRTUOSO_API_KEY", raising=False)
    result = cli("jobs", "list")
    assert result.exit_code == 2
    assert "VIRTUOSO_API_SERVER and VIRTUOSO_API_KEY go together" in result.stderr
