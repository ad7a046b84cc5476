"""``virtuoso-api suite validate`` and ``suite run --dry-run``: output, JSON shape, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from virtuoso_api.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).parent.parent / "suites" / "examples"
COMPACT = str(EXAMPLES / "rocketshop" / "rocketshop-compact.yaml")
EXTENDED = str(EXAMPLES / "rocketshop" / "rocketshop-test.yaml")
D365 = str(EXAMPLES / "d365-sales" / "sales-lead-003---lead-duplicate-detection.yaml")


def test_validate_reports_each_file_and_exits_2_when_one_is_bad(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    result = runner.invoke(app, ["suite", "validate", COMPACT, EXTENDED, missing])
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        f"OK    {COMPACT}  (compact, 21 steps)",
        f"FAIL  {EXTENDED}",
        f"  {EXTENDED}:27: steps[5].element_type: limits the check to <h1> elements, which no assertion can "
        "express; leave it out to check the element anywhere on the page",
        f"  {EXTENDED}:79: steps[16].element_type: limits the check to <h3> elements, which no assertion can "
        "express; leave it out to check the element anywhere on the page",
        f"FAIL  {missing}",
        f"  {missing}: cannot be read: No such file or directory",
    ]
    assert result.stderr == "error: 2 of 3 files not valid\n"


def test_validate_all_good_exits_0_with_warnings_shown() -> None:
    result = runner.invoke(app, ["suite", "validate", D365, "--var", "instance=contoso"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"OK    {D365}  (simplified, 8 steps)"
    assert result.stdout.splitlines()[1].startswith(
        f"  {D365}:14: steps[5].wait: wait: 3 is read as 3 seconds"
    )
    as_json = json.loads(runner.invoke(app, ["suite", "validate", D365, "--json"]).stdout)
    assert as_json == [
        {
            "file": D365,
            "valid": False,
            "errors": [
                {
                    "line": 3,
                    "field": "starting_url",
                    "message": "[instance] is a placeholder with no value: pass --var instance=VALUE, "
                    "or define instance in the file's variables (or data)",
                }
            ],
            "warnings": [],
        }
    ]


def test_dry_run_json_is_exactly_the_plan() -> None:
    result = runner.invoke(app, ["suite", "run", COMPACT, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert set(plan) == {"name", "dialect", "steps", "warnings"}
    assert (plan["name"], plan["dialect"], plan["warnings"]) == ("RocketShop Shopping Cart", "compact", [])
    assert plan["steps"][:2] == [
        {"line": 4, "command": "step-interact", "args": ["click", "Add to Bag"]},
        {"line": 5, "command": "step-assert", "args": ["exists", "Added to bag!"]},
    ]
    assert plan["steps"][-1] == {"line": 24, "command": "step-assert", "args": ["exists", "Confirm and Pay"]}

    several = json.loads(
        runner.invoke(
            app, ["suite", "run", COMPACT, D365, "--dry-run", "--json", "--var", "instance=c"]
        ).stdout
    )
    assert [item["name"] for item in several] == [
        "RocketShop Shopping Cart",
        "SALES-LEAD-003 - Lead Duplicate Detection - Verify duplicate detection prevents duplicate leads",
    ]
    assert several[1]["warnings"][0] == {
        "line": 14,
        "field": "steps[5].wait",
        "message": "wait: 3 is read as 3 seconds (3000 ms): a bare number up to 60 is seconds, a larger one "
        "milliseconds; write 3s, or 3ms for milliseconds",
    }


def test_dry_run_reads_stdin_and_prints_a_table() -> None:
    suite = (
        "name: From stdin\nsteps:\n  - navigate: https://a.example\n  - write: {selector: Note, text: -5}\n"
    )
    result = runner.invoke(app, ["suite", "run", "-", "--dry-run"], input=suite)
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == "From stdin  (simplified, 2 steps, -)"
    assert lines[2].split() == ["3", "step-navigate", "to", "https://a.example"]
    assert lines[3].split() == ["4", "step-interact", "write", "Note", "-5"]


def test_run_refusals_exit_2() -> None:
    without = runner.invoke(app, ["suite", "run", COMPACT])
    assert without.exit_code == 2
    assert "not configured: set VIRTUOSO_API_TOKEN" in without.stderr  # no Virtuoso: nothing to run into
    bad_var = runner.invoke(app, ["suite", "run", COMPACT, "--dry-run", "--var", "no-equals"])
    assert bad_var.exit_code == 2
    assert bad_var.stderr.startswith("error: --var: must be NAME=VALUE")
    invalid = runner.invoke(app, ["suite", "run", EXTENDED, "--dry-run", "--json"])
    assert (invalid.exit_code, invalid.stdout) == (2, "")
    assert f"{EXTENDED}:27: steps[5].element_type:" in invalid.stderr


def test_help_does_not_load_the_parser() -> None:
    code = "import sys, virtuoso_api.cli; print('virtuoso_api.suites' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
