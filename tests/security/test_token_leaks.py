"""A VIRTUOSO_API_TOKEN ending in a newline, as read from a file or a secret store, against a Virtuoso
served in its own process (the sandbox, over a real socket): the stripped token is what is sent, and
when Virtuoso refuses it or cannot be reached, no answer, stored entry or CLI line shows it in any
spelling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import AnyHttpUrl, SecretStr
from typer.testing import CliRunner

from tests.processes import free_port, served_sandbox
from tests.security.leaks import hanging_up, leaks
from tests.support import auth
from virtuoso_api.api_keys.models import ApiKeyCreate
from virtuoso_api.app import create_app
from virtuoso_api.cli import app as cli
from virtuoso_api.config import Environment, Settings
from virtuoso_api.sandbox import SEED

TOKEN = "served-token-5b1f"
WRONG = "refused-token-a83c"  # what each test reads from its "secret file", a newline after it
COMMAND = {"command": "step-misc", "args": ["comment", "hello"], "checkpoint_id": SEED.checkpoint_id}


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with served_sandbox(TOKEN) as base_url:
        yield base_url


def _settings(tmp_path: Path, base_url: str, token: str) -> Settings:
    # Built, not copied, so the token goes through the same validation as one read from the environment.
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_dir=tmp_path / "data",
        virtuoso_api_token=SecretStr(token),
        virtuoso_base_url=AnyHttpUrl(base_url),
        virtuoso_org_id=SEED.organization_id,
    )


@asynccontextmanager
async def _service(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        key, _ = await app.state.services.api_keys.create(ApiKeyCreate(name="ci"))
        yield http, auth(key)


async def test_a_token_with_a_trailing_newline_is_sent_stripped(tmp_path: Path, remote: str) -> None:
    async with _service(_settings(tmp_path, remote, TOKEN + "\n")) as (http, headers):
        ready = await http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        created = await http.post("/api/v1/commands", headers=headers, json=COMMAND)
        assert created.status_code == 201, created.text
    with httpx.Client(base_url=remote, headers={"Authorization": f"Bearer {TOKEN}"}) as virtuoso:
        steps = virtuoso.get(f"/checkpoints/{SEED.checkpoint_id}/teststeps").json()["items"]
    assert created.json()["step_id"] in [step["id"] for step in steps]


async def test_a_refused_token_shows_nowhere(tmp_path: Path, remote: str) -> None:
    async with _service(_settings(tmp_path, remote, WRONG + "\n")) as (http, headers):
        ready = await http.get("/health/ready")
        refused = await http.post("/api/v1/commands", headers=headers, json=COMMAND)
        history = await http.get("/api/v1/commands/history", headers=headers)
    assert ready.status_code == 503
    virtuoso = ready.json()["backends"]["virtuoso"]
    assert virtuoso | {"latency_ms": 0} == {
        "backend": "virtuoso",
        "status": "unavailable",
        "latency_ms": 0,
        "reason": "Virtuoso refused the token",
        "check": "VIRTUOSO_API_TOKEN",
    }
    assert refused.status_code == 502
    assert "VIRTUOSO_API_TOKEN" in refused.json()["error"]["message"]
    (entry,) = history.json()["entries"]
    assert (entry["success"], entry["error"]["status"]) == (False, 502)
    for response in (ready, refused, history):
        assert leaks(WRONG, response.text) == [], response.text


@contextmanager
def _unreachable(how: str) -> Iterator[str]:
    """A Virtuoso URL where nothing listens (``closed``) or where connections are closed unanswered."""
    if how == "closed":
        yield f"http://127.0.0.1:{free_port()}/api"
        return
    with hanging_up() as port:
        yield f"http://127.0.0.1:{port}/api"


UNREACHABLE = [
    ("closed", "connection failed"),
    ("hangs up", "no usable answer: the connection broke or timed out"),
]


@pytest.mark.parametrize(("how", "reason"), UNREACHABLE)
async def test_an_unreachable_virtuoso_names_the_url_and_not_the_token(
    tmp_path: Path, how: str, reason: str
) -> None:
    with _unreachable(how) as nowhere:
        async with _service(_settings(tmp_path, nowhere, WRONG + "\n")) as (http, headers):
            ready = await http.get("/health/ready")
            failed = await http.post("/api/v1/commands", headers=headers, json=COMMAND)
            history = await http.get("/api/v1/commands/history", headers=headers)
    virtuoso = ready.json()["backends"]["virtuoso"]
    assert (virtuoso["reason"], virtuoso["check"]) == (reason, "VIRTUOSO_BASE_URL")
    assert failed.status_code == 503
    assert history.json()["entries"][0]["error"]["status"] == 503
    for response in (ready, failed, history):
        assert leaks(WRONG, response.text) == [], response.text


def _cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base_url: str, token: str) -> None:
    for name, value in {
        "VIRTUOSO_BASE_URL": base_url,
        "VIRTUOSO_API_TOKEN": token,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        "DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(name, value)


def test_the_cli_sends_the_stripped_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, remote: str
) -> None:
    _cli_env(monkeypatch, tmp_path, remote, TOKEN + "\r\n")
    result = CliRunner().invoke(cli, ["exec", "step-misc", "comment", "from the cli", "--checkpoint", "1001"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Step ")


def test_cli_errors_never_show_the_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, remote: str
) -> None:
    runner = CliRunner()
    with _unreachable("hangs up") as nowhere:
        for base_url, code in ((remote, 1), (nowhere, 5)):  # refused, then never answered
            _cli_env(monkeypatch, tmp_path, base_url, WRONG + "\n")
            for args in (
                ["step-misc", "comment", "x", "--checkpoint", "1001"],
                ["list-steps", "1001", "--json"],
            ):
                result = runner.invoke(cli, ["exec", *args])
                assert result.exit_code == code, result.output
                assert result.stderr.startswith("error: ")
                assert leaks(WRONG, result.output) == [], result.output
