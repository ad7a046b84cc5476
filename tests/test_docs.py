"""The documents a user reads first stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from virtuoso_api.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme_table_and_env_example() -> None:
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    in_example = set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", example, flags=re.MULTILINE))
    names = {name.upper() for name in Settings.model_fields}
    assert table == names
    assert in_example == names


def test_the_readme_opens_with_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["./scripts/serve", "./scripts/test"]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()
