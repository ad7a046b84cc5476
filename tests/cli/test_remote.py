"""The CLI as a client of a deployed service: with ``VIRTUOSO_API_SERVER`` and ``VIRTUOSO_API_KEY`` set,
``exec``, ``runs``, ``suite run`` and ``jobs`` go to a served ``virtuoso-api serve`` over HTTP,
holding no Virtuoso token and opening no store of their own, and print and exit as they do when they
do the work themselves (each case is run both ways against the same sandbox and compared)."""

from __future__ import annotations

import contextlib
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

from tests.processes import CLI, free_port, running, served_sandbox
from virtuoso_api.cli import app
from virtuoso_api.sandbox import FAIL_MARKER, SEED

pytestmark = pytest.mark.timeout(180)

TOKEN = "remote-cli-token"
runner = CliRunner()
FAST_RUNS = {"RUN_POLL_SECONDS": "0.02", "RUN_POLL_MAX_SECONDS": "0.1", "VIRTUOSO_RETRY_ATTEMPTS": "1"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with served_sandbox(TOKEN, "--step-seconds", "0.02") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def served(sandbox: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``virtuoso-api serve`` talking to the sandbox, and a key of it: (URL, key)."""
    with serving(sandbox, tmp_path_factory.mktemp("server")) as service:
        yield service


@contextlib.contextmanager
def serving(sandbox: str, data: Path, **settings: str) -> Iterator[tuple[str, str]]:
    env = {
        "DATA_DIR": str(data),
        "VIRTUOSO_BASE_URL": sandbox,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        **FAST_RUNS,
        **settings,
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
    """Output with ids, positions and durations as N, and a suite report's signed link as LINK: what
    must not differ between the two ways."""
    return re.sub(r"\d+(\.\d+)?", "N", re.sub(r"http://\S+/report\.html\?[^\s\"]+", "LINK", text))


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


# -- suite run -----------------------------------------------------------------------------------

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


def suite_both(
    served: tuple[str, str],
    sandbox: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[Result, Result]:
    """``suite run ARGS`` through the service and here, each into a project of its own (the second
    would otherwise find the first's journey and keep its steps: other output, by design)."""
    remotely(served, tmp_path / "ci-runner", monkeypatch)
    remote = cli("suite", "run", *args, "--project", f"Remote {tmp_path.name}")
    locally(sandbox, tmp_path, monkeypatch)
    local = cli("suite", "run", *args, "--project", f"Local {tmp_path.name}")
    return remote, local


def table(text: str) -> str:
    """``shape`` with runs of spaces as one: a column is as wide as its longest id."""
    return re.sub(r"[ \t]+", " ", shape(text))


def test_suite_files_run_through_the_service_as_they_do_here(
    served: tuple[str, str],
    sandbox: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("one.yaml").write_text(LOGIN.format(name="Login R1", last="Welcome"), encoding="utf-8")
    Path("two.yaml").write_text(LOGIN.format(name="Login R2", last="Welcome"), encoding="utf-8")
    args = ("one.yaml", "two.yaml", "--execute", "--var", "email=ci@example.com", "--junit", "suites.xml")
    remotely(served, tmp_path / "ci-runner", monkeypatch)
    remote = cli("suite", "run", *args, "--project", "Remote suites")
    remote_report = ET.parse("suites.xml").getroot()
    locally(sandbox, tmp_path, monkeypatch)
    local = cli("suite", "run", *args, "--project", "Local suites")
    local_report = ET.parse("suites.xml").getroot()

    assert remote.exit_code == local.exit_code == 0, remote.output + local.output
    assert table(remote.stdout) == table(local.stdout)
    assert remote.stdout.count("PASSED") == 2
    # Each file's report is the one the service's job published: its link opens on the service.
    links = re.findall(r"^(?:one|two)\.yaml: report http://127\.0\.0\.1:8000(/\S+)$", remote.stdout, re.M)
    assert len(links) == 2, remote.stdout
    for link in links:
        page = httpx.get(served[0] + link)
        assert page.status_code == 200
        assert "Login R" in page.text
    # Progress came from the service: where the steps went, the steps, the run started.
    for file in ("one.yaml", "two.yaml"):
        assert re.search(rf"^{file}: project \d+, goal \d+, journey \d+, ", remote.stderr, re.M)
        assert f"{file}: 3/3 adding steps" in remote.stderr
        assert re.search(rf"^{file}: run \d+ started$", remote.stderr, re.M)
    # The service parsed the file with the --var value; it ran the steps, not this runner.
    assert not (tmp_path / "ci-runner").exists()
    virtuoso = httpx.Client(base_url=sandbox, headers={"Authorization": f"Bearer {TOKEN}"})
    with virtuoso:
        projects = virtuoso.get("/projects", params={"limit": 1000}).json()["map"].values()
        (project,) = [p for p in projects if p["name"] == "Remote suites"]
        goals = virtuoso.get(f"/projects/{project['id']}/goals").json()["map"].values()
        assert sorted(goal["name"] for goal in goals) == ["Login R1", "Login R2"]
        (goal,) = [goal for goal in goals if goal["name"] == "Login R1"]
        journeys = virtuoso.get(f"/snapshots/{goal['snapshotId']}/goals/{goal['id']}/testsuites")
        steps = [case["steps"] for journey in journeys.json()["map"].values() for case in journey["cases"]]
    assert "ci@example.com" in json.dumps(steps)
    assert "qa@example.com" not in json.dumps(steps)
    # One report for both files, as here: the file cases under this runner's names, then the runs.
    for report in (remote_report, local_report):
        suites = report.findall("testsuite")
        assert len(suites) == 3
        assert [(c.get("classname"), c.get("name")) for c in suites[0].iter("testcase")] == [
            ("one.yaml", "Login R1"),
            ("two.yaml", "Login R2"),
        ]
        assert report.get("tests") == str(sum(int(s.get("tests", "0")) for s in suites))
        assert report.get("failures") == "0"


def test_a_failing_suite_run_exits_1_with_the_same_json_both_ways(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(LOGIN.format(name="Login F", last=f"Welcome {FAIL_MARKER}"), encoding="utf-8")
    remote, local = suite_both(served, sandbox, tmp_path, monkeypatch, str(path), "--execute", "--json")
    assert remote.exit_code == local.exit_code == 1, remote.output + local.output
    remote_json, local_json = json.loads(remote.stdout), json.loads(local.stdout)
    placed = {key: value for key, value in remote_json.items() if key != "run"}
    assert shape(json.dumps(placed)) == shape(json.dumps({k: v for k, v in local_json.items() if k != "run"}))
    # The run as Virtuoso answered it (its own ids and uuids differ): the same fields and verdict.
    assert set(remote_json["run"]) == set(local_json["run"])
    for field in ("status", "outcome", "verdict"):
        assert remote_json["run"][field] == local_json["run"][field]
    assert remote_json["run"]["outcome"] == "FAIL"
    assert [step["success"] for step in remote_json["steps"]] == [True, True, True]


def test_a_bad_suite_file_or_an_unknown_checkpoint_exits_2_both_ways(
    served: tuple[str, str], sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\nsteps:\n  - fly: away\n", encoding="utf-8")
    remote, local = suite_both(served, sandbox, tmp_path, monkeypatch, str(bad))
    assert remote.exit_code == local.exit_code == 2, remote.output + local.output
    assert remote.stderr == local.stderr
    assert "bad.yaml:3" in remote.stderr

    good = tmp_path / "good.yaml"
    good.write_text(LOGIN.format(name="Login U", last="Welcome"), encoding="utf-8")
    remotely(served, tmp_path / "ci-runner", monkeypatch)
    unknown = cli("suite", "run", str(good), "--checkpoint", "999999")
    locally(sandbox, tmp_path, monkeypatch)
    here = cli("suite", "run", str(good), "--checkpoint", "999999")
    assert unknown.exit_code == here.exit_code == 2, unknown.output + here.output
    assert table(unknown.stdout) == table(here.stdout)
    assert unknown.stderr == here.stderr


def test_a_suite_run_through_an_unreachable_service_exits_3(
    client_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "login.yaml"
    path.write_text(LOGIN.format(name="Login X", last="Welcome"), encoding="utf-8")
    monkeypatch.setenv("DATA_DIR", str(client_dir))
    monkeypatch.setenv("VIRTUOSO_API_SERVER", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("VIRTUOSO_API_KEY", "vk_some-key")
    down = cli("suite", "run", str(path))
    assert down.exit_code == 3
    assert "unreachable" in down.stderr


def test_a_file_the_service_refuses_exits_2(
    served: tuple[str, str], client_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid here, but more text than a suite job holds (512 Ki characters): the service's 422."""
    long = "x" * 700
    path = tmp_path / "long.yaml"
    lines = ["name: Long", "starting_url: https://shop.example.com", "steps:"]
    path.write_text("\n".join([*lines, *[f"  - comment: {long}"] * 800]) + "\n", encoding="utf-8")
    remotely(served, client_dir, monkeypatch)
    refused = cli("suite", "run", str(path))
    assert refused.exit_code == 2, refused.output
    assert "524288 characters" in refused.stderr
    jobs = httpx.get(f"{served[0]}/api/v1/jobs", headers={"X-API-Key": served[1]}, params={"limit": 200})
    assert "Long" not in jobs.text  # refused before any job was written


def test_a_job_that_ends_with_nothing_stored_is_incomplete_exit_3_with_its_junit_case(
    sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Virtuoso answering 429 to the placement's first look-up, on the job's only attempt: the job
    fails before any result is stored; the file is INCOMPLETE (exit 3) and JUnit still has its case."""
    path = tmp_path / "throttled.yaml"
    path.write_text(LOGIN.format(name="Login T", last="Welcome"), encoding="utf-8")
    controls = httpx.Client(
        base_url=sandbox.removesuffix("/api"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with controls, serving(sandbox, tmp_path / "server", TASKS_MAX_ATTEMPTS="1") as service:
        remotely(service, tmp_path / "ci-runner", monkeypatch)
        assert (
            controls.post("/_sandbox/throttle", json={"requests": 1000, "retryAfter": 0}).status_code == 200
        )
        try:
            result = cli("suite", "run", str(path), "--execute", "--junit", str(tmp_path / "junit.xml"))
        finally:
            controls.post("/_sandbox/throttle", json={"requests": 0, "retryAfter": 0})
    assert result.exit_code == 3, result.output
    assert "INCOMPLETE" in result.stdout
    assert f"{path}: error: " in result.stderr
    (case,) = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert (case.get("classname"), case.get("name")) == (str(path), "Login T")
    assert case.find("error") is not None
