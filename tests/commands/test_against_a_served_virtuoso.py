"""The service pointed at a Virtuoso by token and URL alone: here a sandbox in its own process,
reached over a real socket, exactly as the real Virtuoso would be."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.processes import served_sandbox
from tests.support import auth
from virtuoso_api.api_keys.models import ApiKeyCreate
from virtuoso_api.app import create_app
from virtuoso_api.cli import app as cli
from virtuoso_api.config import Settings
from virtuoso_api.gcp import FirestoreClient
from virtuoso_api.sandbox import SEED

TOKEN = "remote-token"


@pytest.fixture
def remote() -> Iterator[str]:
    with served_sandbox(TOKEN) as base_url:
        yield base_url


def _pointed_at(settings: Settings, base_url: str, token: str = TOKEN) -> Settings:
    return settings.model_copy(
        update={
            "virtuoso_sandbox": False,
            "virtuoso_api_token": SecretStr(token),
            "virtuoso_base_url": base_url,
            "virtuoso_org_id": SEED.organization_id,
        }
    )


async def test_http_commands_reach_the_configured_virtuoso(settings: Settings, remote: str) -> None:
    app = create_app(_pointed_at(settings, remote))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        key, _ = await app.state.services.api_keys.create(ApiKeyCreate(name="ci"))
        virtuoso = (await http.get("/health/ready")).json()["backends"]["virtuoso"]
        assert (virtuoso["backend"], virtuoso["status"]) == ("virtuoso", "ok")
        response = await http.post(
            "/api/v1/commands",
            headers=auth(key),
            json={
                "command": "step-navigate",
                "args": ["to", "https://example.com", "--new-tab"],
                "checkpoint_id": SEED.checkpoint_id,
            },
        )
        assert response.status_code == 201, response.text
    with httpx.Client(base_url=remote, headers={"Authorization": f"Bearer {TOKEN}"}) as virtuoso:
        (step,) = virtuoso.get(f"/checkpoints/{SEED.checkpoint_id}/teststeps").json()["items"]
    assert (step["id"], step["action"], step["meta"]) == (
        response.json()["step_id"],
        "NAVIGATE",
        {"kind": "NAVIGATE", "useNewTab": True},
    )


async def test_a_wrong_token_is_a_502_that_never_shows_the_token(settings: Settings, remote: str) -> None:
    app = create_app(_pointed_at(settings, remote, token="wrong-token-value"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        key, _ = await app.state.services.api_keys.create(ApiKeyCreate(name="ci"))
        response = await http.post(
            "/api/v1/commands",
            headers=auth(key),
            json={"command": "step-misc", "args": ["comment", "x"], "checkpoint_id": SEED.checkpoint_id},
        )
        assert response.status_code == 502
        assert "VIRTUOSO_API_TOKEN" in response.json()["error"]["message"]
        assert "wrong-token-value" not in response.text


def test_the_cli_exec_reaches_it_and_records_history(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, remote: str
) -> None:
    for name, value in {
        "VIRTUOSO_BASE_URL": remote,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        "DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    human = runner.invoke(
        cli, ["exec", "step-interact", "click", 'the "Buy" button', "--checkpoint", "cp_1001"]
    )
    assert human.exit_code == 0, human.output
    assert human.stdout.startswith("Step ")
    assert "added at position 1 of checkpoint 1001" in human.stdout
    moved = runner.invoke(
        cli, ["exec", "step-navigate", "scroll-by", "-100,250", "--checkpoint", "1001", "--json"]
    )
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)["position"] == 2
    listing = runner.invoke(cli, ["exec", "list-steps", "1001", "--json"])
    steps = json.loads(listing.stdout)["result"]["steps"]
    assert [(s["action"], s["meta"]) for s in steps][1] == (
        "SCROLL",
        {"kind": "SCROLL", "type": "OFFSET", "x": -100, "y": 250},
    )
    bad = runner.invoke(cli, ["exec", "step-wait", "time", "99999999", "--checkpoint", "1001"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: args[1]:")
    missing = runner.invoke(cli, ["exec", "step-misc", "comment", "x", "--checkpoint", "424242"])
    assert missing.exit_code == 3

    async def read_history() -> list[dict[str, Any]]:
        async with FirestoreClient(Settings()) as facade:
            entries: list[dict[str, Any]] = (await facade.get_command_history({"user_id": "cli"}))["entries"]
            return entries

    history = asyncio.run(read_history())
    assert [(e["command"], e["success"], e["source"]) for e in history] == [
        ("step-misc", False, "cli"),
        ("step-wait", False, "cli"),
        ("list-steps", True, "cli"),
        ("step-navigate", True, "cli"),
        ("step-interact", True, "cli"),
    ]
    assert history[0]["error"]["type"] == "not_found"
