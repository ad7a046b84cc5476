"""``virtuoso-api secrets set|show|rotate|versions|delete``, in-process through typer's runner, on the
local encrypted store and on Secret Manager (drongo); and ``serve`` refusing a key that does not fit."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.infra.secrets.conftest import STORES
from tests.processes import CLI
from virtuoso_api.cli import app

runner = CliRunner()
TOKEN = "cli-virtuoso-token-95d1"


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Configured through the environment, as a user would."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENVIRONMENT", "staging")
    if request.param == "secret_manager":
        pytest.importorskip("google.cloud.secretmanager_v1", reason="the gcp extra is not installed")
        monkeypatch.setenv("USE_SECRET_MANAGER", "true")
        monkeypatch.setenv("GCP_PROJECT_ID", request.getfixturevalue("drongo_project"))
        monkeypatch.setenv("SECRET_MANAGER_EMULATOR_HOST", request.getfixturevalue("drongo").host)
    return str(request.param)


def test_set_show_rotate_versions_delete(store: str) -> None:
    code, out, err = invoke(
        "secrets", "set", "virtuoso-api-key", "--stdin", stdin=json.dumps({"api_key": TOKEN, "org_id": 2242})
    )
    assert code == 0, err
    assert out.startswith("Stored staging-virtuoso-api-key version 1 in ")

    code, out, _ = invoke("secrets", "show", "virtuoso-api-key")
    assert code == 0
    assert TOKEN not in out
    lines = out.splitlines()
    assert lines[0] == f"secret   staging-virtuoso-api-key ({store})"
    assert lines[1:3] == ["version  1", f"api_key  ******** (sha256:{_sha(TOKEN)})"]
    assert lines[3] == "org_id   2242"

    # A plain token on stdin, the organization as a field.
    code, out, _ = invoke(
        "secrets", "rotate", "virtuoso-api-key", "--stdin", "--field", "org_id=7", stdin="new-tok\n"
    )
    assert code == 0
    assert out.splitlines() == [
        out.splitlines()[0],
        "Older versions disabled: none; destroyed: none.",
    ]
    assert out.startswith("Rotated staging-virtuoso-api-key version 2 in ")
    code, out, _ = invoke("secrets", "show", "virtuoso-api-key", "--json")
    shown = json.loads(out)
    assert (shown["version"], shown["fields"], shown["fingerprints"]) == (
        2,
        {"api_key": "********", "org_id": 7},
        {"api_key": f"sha256:{_sha('new-tok')}"},
    )
    code, out, _ = invoke("secrets", "show", "virtuoso-api-key", "--version", "1", "--json")
    assert json.loads(out)["fields"]["org_id"] == 2242

    code, out, _ = invoke("secrets", "versions", "virtuoso-api-key", "--json")
    assert [(v["version"], v["state"]) for v in json.loads(out)] == [(2, "enabled"), (1, "enabled")]
    code, out, _ = invoke("secrets", "versions", "virtuoso-api-key")
    assert out.split()[:3] == ["VERSION", "STATE", "CREATED"]

    code, out, _ = invoke("secrets", "delete", "virtuoso-api-key", "--yes")
    assert (code, out) == (0, "Deleted staging-virtuoso-api-key and all its versions.\n")
    code, _, err = invoke("secrets", "show", "virtuoso-api-key")
    assert code == 3
    assert "staging-virtuoso-api-key" in err


def test_generated_keys_per_name(store: str) -> None:
    code, out, _ = invoke("secrets", "set", "webhook-signing-key", "--name", "orders", "--generate", "--json")
    assert code == 0
    assert json.loads(out) == {
        "secret": "staging-webhook-signing-key-orders",
        "type": "webhook-signing-key",
        "version": 1,
        "disabled_versions": [],
        "destroyed_versions": [],
    }
    first = json.loads(invoke("secrets", "show", "webhook-signing-key", "--name", "orders", "--json")[1])
    code, out, _ = invoke("secrets", "rotate", "webhook-signing-key", "--name", "orders", "--generate")
    assert code == 0
    second = json.loads(invoke("secrets", "show", "webhook-signing-key", "--name", "orders", "--json")[1])
    assert first["fingerprints"] != second["fingerprints"]
    assert invoke("secrets", "show", "webhook-signing-key", "--json")[0] == 3  # another secret: no name


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (("show", "ssh-key"), None, 2, "type: 'ssh-key' is not a secret type; choose from virtuoso-api-key"),
        (("set", "virtuoso-api-key", "--field", "api_key"), None, 2, "--field: expected KEY=VALUE"),
        (("set", "virtuoso-api-key", "--field", "org_id=1"), None, 2, "value.api_key: Field required"),
        (("set", "virtuoso-api-key", "--stdin"), '{"api_key": "k", "x": 1}', 2, "value.x: is not a field"),
        (("set", "virtuoso-api-key", "--generate"), None, 2, "a virtuoso-api-key cannot be generated"),
        (("set", "blob-signing-key", "--field", "key=short"), None, 2, "value.key: must be at least 32"),
        (("set", "webhook-signing-key", "--name", "a b", "--generate"), None, 2, "name: must be 1 to 100"),
        (("rotate", "blob-signing-key", "--generate"), None, 3, "store a first value before rotating it"),
        (("delete", "blob-signing-key"), None, 2, "cannot be undone: add --yes to confirm"),
        (("delete", "blob-signing-key", "--yes"), None, 3, "secret local-blob-signing-key does not exist"),
        (("show", "virtuoso-api-key", "--version", "0"), None, 2, "Invalid value for '--version'"),
    ],
)
def test_mistakes_exit_non_zero_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: tuple[str, ...],
    stdin: str | None,
    code: int,
    message: str,
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    got, out, err = invoke("secrets", *args, stdin=stdin)
    assert (got, out) == (code, "")
    assert message in " ".join(err.split())


@pytest.mark.timeout(120)
def test_serve_refuses_a_key_that_does_not_fit_in_one_line(tmp_path: Path) -> None:
    made_with = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "SECRETS_ENCRYPTION_KEY": _key()}
    stored = subprocess.run(
        [*CLI, "secrets", "set", "blob-signing-key", "--generate"],
        env=made_with,
        capture_output=True,
        timeout=60,
    )
    assert stored.returncode == 0, stored.stderr
    wrong = {**made_with, "SECRETS_ENCRYPTION_KEY": _key()}
    served = subprocess.run(
        [*CLI, "serve", "--port", "1"], env=wrong, capture_output=True, text=True, timeout=60
    )
    assert served.returncode == 2
    assert served.stdout == ""
    assert served.stderr == (
        f"error: {tmp_path / 'data' / 'secrets.json'} was encrypted with another key than "
        "SECRETS_ENCRYPTION_KEY: set SECRETS_ENCRYPTION_KEY to the key it was made with\n"
    )
    assert wrong["SECRETS_ENCRYPTION_KEY"] not in served.stderr


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
