"""VIRTUOSO_API_TOKEN at start-up: surrounding whitespace stripped, control and non-ASCII characters
refused with one line that names the variable and never shows the value."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from tests.processes import CLI
from tests.security.leaks import leaks
from virtuoso_api.cli import app
from virtuoso_api.config import Settings, describe_settings_error

runner = CliRunner()


@pytest.mark.parametrize(
    "given", ["tok-from-file\n", "tok-from-file\r\n", "  tok-from-file\r", "\ttok-from-file "]
)
def test_whitespace_around_the_token_is_stripped(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv("VIRTUOSO_API_TOKEN", given)
    token = Settings(_env_file=None).virtuoso_api_token
    assert token is not None
    assert token.get_secret_value() == "tok-from-file"


def test_a_token_given_in_code_is_stripped_too_and_a_blank_one_is_unset() -> None:
    given = Settings(_env_file=None, virtuoso_api_token=SecretStr("tok-as-secret\n")).virtuoso_api_token
    assert given is not None
    assert given.get_secret_value() == "tok-as-secret"
    assert Settings(_env_file=None, virtuoso_api_token=SecretStr(" \r\n")).virtuoso_api_token is None


BAD = [
    ("tok-in\nside", "control character"),
    ("tok-in\x01side", "control character"),
    ("tok-in\x7fside", "control character"),
    ("tok-nön-ascii", "non-ASCII character"),
]


@pytest.mark.parametrize(("token", "reason"), BAD)
def test_a_control_or_non_ascii_character_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, token: str, reason: str
) -> None:
    monkeypatch.setenv("VIRTUOSO_API_TOKEN", token)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    line = describe_settings_error(caught.value)
    assert line.startswith("invalid configuration: VIRTUOSO_API_TOKEN: must be printable ASCII")
    assert reason in line
    assert "\n" not in line
    # Nor in the exception's own text, which a caller of Settings (the facade) may print.
    for said in (line, str(caught.value), repr(caught.value)):
        assert leaks(token, said) == [], said
        assert "tok-" not in said


@pytest.mark.parametrize(("token", "reason"), BAD)
def test_config_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch, token: str, reason: str) -> None:
    monkeypatch.setenv("VIRTUOSO_API_TOKEN", token)
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid configuration: VIRTUOSO_API_TOKEN: must be printable")
    assert reason in result.stderr
    assert result.stderr.count("\n") == 1
    assert "tok-" not in result.stderr


def test_serve_refuses_it_at_start_up_with_one_line(tmp_path: Path) -> None:
    token = "tok-serve\x1bsecret"
    result = subprocess.run(
        [*CLI, "serve", "--port", "1"],
        env={**os.environ, "DATA_DIR": str(tmp_path), "VIRTUOSO_API_TOKEN": token},
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 2
    said = (result.stdout + result.stderr).decode()
    assert said == (
        "error: invalid configuration: VIRTUOSO_API_TOKEN: must be printable ASCII "
        "(it contains a control character such as a newline or tab)\n"
    )
    assert leaks(token, said) == []
