"""The sandbox as a user runs it: the ``sandbox`` command in its own process, on a real port, used by
the client over a real socket."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.processes import free_port, running
from virtuoso_api.sandbox import SEED
from virtuoso_api.virtuoso import VirtuosoAuthFailed, VirtuosoClient, build_virtuoso_http
from virtuoso_api.virtuoso.steps import Clue, ParsedStep, StepAction, Target

TOKEN = "served-token"


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def served() -> Iterator[Served]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/api"
    ready = f"{base_url}/projects"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with running("sandbox", "--port", str(port), "--token", TOKEN, ready=ready, headers=headers) as process:
        yield Served(base_url, process)


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
