"""``virtuoso-api serve`` as a user runs it: a real process on a real port, sharing its store with
``virtuoso-api keys create`` run beside it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "virtuoso_api"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def server(environment: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--sandbox", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_a_key_made_by_the_cli_works_against_the_running_server(
    server: str, environment: dict[str, str]
) -> None:
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", "smoke", "--json"],
        env=environment,
        capture_output=True,
        check=True,
    )
    key = json.loads(made.stdout)["key"]
    with httpx.Client(base_url=server, headers={"X-API-Key": key}) as http:
        created = http.post("/api/v1/sessions", json={"checkpoint_id": "cp_42", "activate": True})
        assert created.status_code == 201
        assert http.get("/api/v1/sessions/current").json()["checkpoint_id"] == 42
        ready = http.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["backends"]["documents"]["backend"] == "sqlite"
        assert ready.json()["backends"]["virtuoso"]["backend"] == "sandbox"
        assert http.get("/docs").status_code == 200


def test_a_bad_setting_stops_start_up_with_one_line(environment: dict[str, str]) -> None:
    result = subprocess.run(
        [*CLI, "serve"], env={**environment, "USE_FIRESTORE": "true"}, capture_output=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "error: invalid configuration: USE_FIRESTORE is on, so GCP_PROJECT_ID must be set\n"
    )
    assert b"Traceback" not in result.stdout + result.stderr
