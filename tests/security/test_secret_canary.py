"""A canary: Virtuoso keys planted in the secret store (two versions, both distinctive) and a service
that reads them and is refused by Virtuoso; then everything the service says is searched for them, in
every spelling: each HTTP answer (errors, readiness, history), the server's whole log at DEBUG (its
own lines, uvicorn's access log), every CLI line (``config``, ``secrets show``, ``exec``), and the
files it keeps (the store, the outbox; the secrets file only as ciphertext)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.infra.secrets.conftest import STORES
from tests.processes import CLI, free_port, running
from tests.security.leaks import leaks

CANARIES = ("canary-old-5e1f0b9d7c3a", "canary-new-a8d24c61f0e7")
SANDBOX_TOKEN = "the-key-virtuoso-accepts"  # neither canary: every call is refused, read again, refused
CHECKPOINT = 1001


@pytest.fixture(params=STORES)
def environment(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    env = {"DATA_DIR": str(tmp_path / "data"), "ENVIRONMENT": "production", "LOG_LEVEL": "DEBUG"}
    if request.param == "secret_manager":
        pytest.importorskip("google.cloud.secretmanager_v1", reason="the gcp extra is not installed")
        env |= {
            "USE_SECRET_MANAGER": "true",
            "GCP_PROJECT_ID": request.getfixturevalue("drongo_project"),
            "SECRET_MANAGER_EMULATOR_HOST": request.getfixturevalue("drongo").host,
        }
    return env


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [*CLI, *args], env={**os.environ, **env}, input=stdin, capture_output=True, text=True, timeout=60
    )
    return f"$ {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}"


@pytest.mark.timeout(240)  # three servers and a dozen CLI processes, on a machine others share
def test_the_planted_keys_appear_nowhere(environment: dict[str, str], tmp_path: Path) -> None:
    said: list[str] = []
    old, new = CANARIES
    said.append(
        cli(environment, "secrets", "set", "virtuoso-api-key", "--stdin", stdin=json.dumps({"api_key": old}))
    )
    said.append(
        cli(
            environment,
            "secrets",
            "rotate",
            "virtuoso-api-key",
            "--stdin",
            "--field",
            "org_id=2242",
            stdin=new,
        )
    )
    sandbox_port, port = free_port(), free_port()
    remote = f"http://127.0.0.1:{sandbox_port}/api"
    env = environment | {"VIRTUOSO_BASE_URL": remote}
    base = f"http://127.0.0.1:{port}"
    with (
        running(
            "sandbox",
            "--port",
            str(sandbox_port),
            "--token",
            SANDBOX_TOKEN,
            ready=f"{remote}/projects",
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
        ),
        running("serve", "--port", str(port), ready=f"{base}/health/live", env=env) as server,
    ):
        key = json.loads(
            subprocess.run(
                [*CLI, "keys", "create", "--name", "ci", "--scopes", "admin", "--json"],
                env={**os.environ, **env},
                capture_output=True,
                check=True,
            ).stdout
        )["key"]
        step = {"command": "step-misc", "args": ["comment", "x"], "checkpoint_id": CHECKPOINT}
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
            answers = [
                http.get("/health/ready"),
                http.post("/api/v1/commands", json=step),
                http.post("/api/v1/commands", json={**step, "command": "list-projects", "args": []}),
                http.post("/api/v1/commands/batch", json={"commands": [step, step], "stop_on_error": False}),
                http.post("/api/v1/commands", json={"command": "step-wait", "args": ["time", "x"]}),
                http.get("/api/v1/commands/history", params={"limit": 50}),
                http.get("/health/live", params={"probe": new}),  # a caller quoting it: the access log
            ]
        said.append(cli(env, "exec", "step-misc", "comment", "y", "--checkpoint", str(CHECKPOINT)))
        server.terminate()
        logged = server.communicate(timeout=10)[0].decode()
    for args in (("config",), ("config", "--json"), ("secrets", "show", "virtuoso-api-key")):
        said.append(cli(env, *args))
    said += [
        cli(env, "secrets", "show", "virtuoso-api-key", "--json"),
        cli(env, "secrets", "show", "virtuoso-api-key", "--version", "1"),
        cli(env, "secrets", "versions", "virtuoso-api-key"),
    ]
    said += [f"{a.status_code} {dict(a.headers)}\n{a.text}" for a in answers]
    said.append(logged)
    kept = [path for path in Path(env["DATA_DIR"]).rglob("*") if path.is_file()]
    said += [path.read_bytes().decode("latin-1") for path in kept]

    # The service did what the test needs: Virtuoso refused it, it said so, and it recorded it.
    assert [a.status_code for a in answers[:5]] == [503, 502, 502, 502, 422]
    assert answers[0].json()["backends"]["virtuoso"]["reason"] == "Virtuoso refused the token"
    history = answers[5].json()["entries"]
    assert len(history) >= 4
    assert all(not entry["success"] for entry in history)
    assert "GET /health/live?probe=*** HTTP/1.1" in logged
    assert "Virtuoso refused the token of secret production-virtuoso-api-key version 2" in logged
    for canary in CANARIES:
        for text in said:
            assert leaks(canary, text) == [], text[-3000:]
    if "USE_SECRET_MANAGER" not in environment:
        assert any(path.name == "secrets.json" for path in kept)  # the one file holding them, sealed
