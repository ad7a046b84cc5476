"""``virtuoso-api exec`` refusals and ``virtuoso-api commands`` (the happy path runs against a served
sandbox in tests/commands/test_against_a_served_virtuoso.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from virtuoso_api.cli import app
from virtuoso_api.commands.vocabulary import catalogue

runner = CliRunner()


def test_a_malformed_checkpoint_exits_2_naming_the_option() -> None:
    result = runner.invoke(app, ["exec", "step-misc", "comment", "x", "--checkpoint", "abc"])
    assert result.exit_code == 2
    assert result.stderr == "error: --checkpoint: must be a checkpoint id such as 456 or cp_456, got 'abc'\n"


def test_without_a_virtuoso_it_exits_5_saying_what_to_set() -> None:
    result = runner.invoke(app, ["exec", "step-misc", "comment", "x", "--checkpoint", "1001"])
    assert result.exit_code == 5
    assert "set VIRTUOSO_API_TOKEN" in result.stderr


def test_a_bad_argument_is_refused_before_virtuoso_is_needed() -> None:
    result = runner.invoke(app, ["exec", "step-navigate", "to", "ftp://x", "--checkpoint", "1001"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: args[1]:")


def test_the_catalogue_as_json_and_by_kind() -> None:
    everything = runner.invoke(app, ["commands", "--json"])
    assert json.loads(everything.stdout) == catalogue()
    library = json.loads(runner.invoke(app, ["commands", "--kind", "library", "--json"]).stdout)
    assert {entry["command"] for entry in library} == {"library"}
    assert len(library) == 6
    unknown = runner.invoke(app, ["commands", "--kind", "magic"])
    assert unknown.exit_code == 2
