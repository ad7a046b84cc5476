"""The sandbox as a user runs it: the ``sandbox`` command in its own process, on a real port, used by
the client over a real socket."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from virtuoso_api.sandbox import SEED
from virtuoso_api.virtuoso import VirtuosoAuthFailed, VirtuosoClient, build_virtuoso_http
from virtuoso_api.virtuoso.steps import Clue, ParsedStep, StepAction, Target

TOKEN = "served-token"
# The command function is registered in the CLI by another module; run it the way typer would.
RUN_COMMAND = "import typer; from virtuoso_api.cli.sandbox_cmd import sandbox; typer.run(sandbox)"


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served() -> Iterator[Served]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_COMMAND, "--port", str(port), "--token", TOKEN],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"{base_url}/projects", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1
                )
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the sandbox did not start:\n{output}")
            time.sleep(0.1)
        yield Served(base_url, process)
    finally:
        process.terminate()
        process.communicate(timeout=10)


async def test_the_client_works_against_the_served_sandbox(served: Served) -> None:
    async with build_virtuoso_http(served.base_url, timeout=5) as http:
        client = VirtuosoClient(http, token=TOKEN, org_id=SEED.organization_id)
        assert [p.id for p in await client.list_projects()] == [SEED.project_id]
        selector = 'the "Sign in" button \\ top'
        parsed = ParsedStep(action=StepAction.CLICK, target=Target.guess(Clue(clue=selector)))
        created = await client.append_step(SEED.checkpoint_id, parsed)
        read = await client.get_step(created.id)
        assert read.step_index == 1
        assert read.target is not None
        assert Target.model_validate(read.target).clue().clue == selector

        stranger = VirtuosoClient(http, token="not-the-token", org_id=None)
        with pytest.raises(VirtuosoAuthFailed) as caught:
            await stranger.list_projects()
        assert "not-the-token" not in caught.value.message


def test_the_command_prints_the_base_url_and_the_seeded_ids(served: Served) -> None:
    served.process.terminate()
    output, _ = served.process.communicate(timeout=10)
    text = output.decode()
    assert f"Virtuoso sandbox on {served.base_url}" in text
    assert "project 101, goal 201 (snapshot 301), journey 401, checkpoint 1001" in text
    assert f"VIRTUOSO_BASE_URL={served.base_url} VIRTUOSO_API_TOKEN={TOKEN} VIRTUOSO_ORG_ID=2242" in text
