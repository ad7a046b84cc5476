"""``virtuoso-api serve`` as a user runs it: a real process on a real port, sharing its store with
``virtuoso-api keys create`` run beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import CLI, free_port, running


def test_a_key_made_by_the_cli_works_against_the_running_server(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--sandbox", "--port", str(port), ready=f"{base}/health/live", env=env):
        made = subprocess.run(
            [*CLI, "keys", "create", "--name", "smoke", "--json"],
            env={**os.environ, **env},
            capture_output=True,
            check=True,
        )
        key = json.loads(made.stdout)["key"]
        with httpx.Client(base_url=base, headers={"X-API-Key": key}) as http:
            created = http.post("/api/v1/sessions", json={"checkpoint_id": "cp_1001", "activate": True})
            assert created.status_code == 201
            assert http.get("/api/v1/sessions/current").json()["checkpoint_id"] == 1001
            step = http.post(
                "/api/v1/commands", json={"command": "step-navigate", "args": ["to", "https://a.b"]}
            )
            assert step.status_code == 201
            assert step.json()["position"] == 1
            ready = http.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json()["backends"]["documents"]["backend"] == "sqlite"
            assert ready.json()["backends"]["virtuoso"]["backend"] == "sandbox"
            assert http.get("/docs").status_code == 200


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "serve"],
        env={**os.environ, "DATA_DIR": str(tmp_path), "USE_FIRESTORE": "true"},
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "error: invalid configuration: USE_FIRESTORE is on, so GCP_PROJECT_ID must be set\n"
    )
    assert b"Traceback" not in result.stdout + result.stderr


def test_firestore_without_its_libraries_stops_start_up_with_one_line(tmp_path: Path) -> None:
    without_google = (
        "import sys\n"
        "class NoGoogle:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'google' or name.startswith('google.'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoGoogle())\n"
        "from virtuoso_api.cli import main\n"
        "sys.argv = ['virtuoso-api', 'serve']\n"
        "main()\n"
    )
    env = {**os.environ, "DATA_DIR": str(tmp_path), "USE_FIRESTORE": "true", "GCP_PROJECT_ID": "p"}
    result = subprocess.run(
        [sys.executable, "-c", without_google], env=env, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "error: USE_FIRESTORE is on but the Google Cloud libraries are missing: "
        "pip install 'virtuoso-api[gcp]'\n"
    )


def test_a_missing_storage_signing_key_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "USE_CLOUD_STORAGE": "true",
        "GCP_PROJECT_ID": "p",
        "STORAGE_SIGNING_CREDENTIALS_FILE": str(tmp_path / "missing.json"),
    }
    result = subprocess.run([*CLI, "serve"], env=env, capture_output=True, timeout=30, check=False)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"error: STORAGE_SIGNING_CREDENTIALS_FILE: {tmp_path / 'missing.json'} is not a readable file\n"
    )
