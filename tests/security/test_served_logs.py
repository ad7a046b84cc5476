"""``virtuoso-api serve`` as a process, with a token read "from a file" (a newline after it) that the
Virtuoso it points at refuses: nothing it answers or logs, uvicorn's access log included, shows it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx

from tests.processes import CLI, free_port, running
from tests.security.leaks import leaks

SANDBOX_TOKEN = "sandbox-side-token"
WRONG = "served-refused-token-91d0"


def test_answers_and_logs_never_show_the_token(tmp_path: Path) -> None:
    sandbox_port, port = free_port(), free_port()
    remote = f"http://127.0.0.1:{sandbox_port}/api"
    env = {
        "DATA_DIR": str(tmp_path / "data"),
        "VIRTUOSO_BASE_URL": remote,
        "VIRTUOSO_API_TOKEN": WRONG + "\n",
        "LOG_LEVEL": "INFO",
    }
    base = f"http://127.0.0.1:{port}"
    sandbox_auth = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with (
        running(
            "sandbox",
            "--port",
            str(sandbox_port),
            "--token",
            SANDBOX_TOKEN,
            ready=f"{remote}/projects",
            headers=sandbox_auth,
        ),
        running("serve", "--port", str(port), ready=f"{base}/health/live", env=env) as server,
    ):
        made = subprocess.run(
            [*CLI, "keys", "create", "--name", "ci", "--json"],
            env={**os.environ, **env},
            capture_output=True,
            check=True,
        )
        key = json.loads(made.stdout)["key"]
        with httpx.Client(base_url=base, headers={"X-API-Key": key}) as http:
            ready = http.get("/health/ready")
            refused = http.post(
                "/api/v1/commands",
                json={"command": "step-misc", "args": ["comment", "x"], "checkpoint_id": 1001},
            )
            # A caller who puts the token in a URL: uvicorn's access log prints the path it was sent.
            probed = http.get("/health/live", params={"probe": WRONG})
        server.terminate()
        logged = server.communicate(timeout=10)[0].decode()
    assert ready.status_code == 503
    assert ready.json()["backends"]["virtuoso"]["reason"] == "Virtuoso refused the token"
    assert refused.status_code == 502
    assert probed.status_code == 200
    for said in (ready.text, refused.text, logged):
        assert leaks(WRONG, said) == [], said
    assert "GET /health/live?probe=*** HTTP/1.1" in logged  # the access line is there, masked
    assert "ready: virtuoso (virtuoso) failed: VirtuosoAuthFailed" in logged
