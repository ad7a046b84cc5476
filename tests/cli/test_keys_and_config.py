"""``virtuoso-api keys`` and ``config``, run in-process through typer's runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from virtuoso_api.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestKeys:
    def test_create_list_revoke(self) -> None:
        code, out, _ = invoke("keys", "create", "--name", "ci", "--scopes", "read,admin", "--json")
        assert code == 0
        created = json.loads(out)
        assert created["key"].startswith("vk_")
        assert (created["name"], created["user_id"], created["scopes"]) == ("ci", "ci", ["read", "admin"])

        code, out, _ = invoke("keys", "list", "--json")
        assert code == 0
        (listed,) = json.loads(out)
        assert listed["key_id"] == created["key_id"]
        assert "key" not in listed
        assert "key_hash" not in listed

        code, out, _ = invoke("keys", "revoke", created["key_id"], "--json")
        assert code == 0
        assert json.loads(out)["revoked_at"] is not None

    def test_human_output_shows_the_key_once(self) -> None:
        code, out, _ = invoke("keys", "create", "--name", "laptop")
        assert code == 0
        key = next(line for line in out.splitlines() if line.startswith("vk_"))
        code, listing, _ = invoke("keys", "list")
        assert code == 0
        assert key not in listing
        assert key[:10] in listing

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ["--name", "x", "--scopes", "root"],
                "--scopes: unknown scope 'root'; choose from read, write, admin",
            ),
            (["--name", "x", "--scopes", ","], "--scopes: give at least one of read, write, admin"),
            (["--name", "x", "--user", "a/b"], "--user: 1 to 128 of letters"),
            (["--name", ""], "--name: String should have at least 1 character"),
        ],
    )
    def test_bad_options_exit_2_with_one_line(self, args: list[str], message: str) -> None:
        code, out, err = invoke("keys", "create", *args)
        assert code == 2
        assert out == ""
        assert err.startswith("error: " + message)
        assert err.count("\n") == 1

    def test_revoking_an_unknown_key_exits_3(self) -> None:
        code, _, err = invoke("keys", "revoke", "key_doesnotexist")
        assert code == 3
        assert err == "error: API key key_doesnotexist does not exist\n"


class TestConfig:
    def test_prints_effective_settings_with_secrets_masked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("VIRTUOSO_API_TOKEN", "tok-123456")
        monkeypatch.setenv("GCP_LOCATION", "europe-west4")
        code, out, _ = invoke("config", "--json")
        assert code == 0
        view = json.loads(out)
        assert view["VIRTUOSO_API_TOKEN"] == "********"
        assert view["GCP_LOCATION"] == "europe-west4"
        code, out, _ = invoke("config")
        assert "tok-123456" not in out
        assert "GCP_LOCATION" in out

    def test_a_bad_setting_exits_2_naming_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("USE_CLOUD_TASKS", "true")
        code, out, err = invoke("config")
        assert (code, out) == (2, "")
        assert err == "error: invalid configuration: USE_CLOUD_TASKS is on, so GCP_PROJECT_ID must be set\n"
