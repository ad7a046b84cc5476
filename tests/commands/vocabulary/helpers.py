"""Shared helpers: parse a step command and read its payload with the clue JSON decoded."""

from __future__ import annotations

import json
from typing import Any

from virtuoso_api.commands.vocabulary import StepCommand, parse_command


def parse_step(command: str, *args: str) -> StepCommand:
    parsed = parse_command(command, list(args))
    assert isinstance(parsed, StepCommand)
    return parsed


def payload(command: str, *args: str) -> dict[str, Any]:
    """The step's payload, with the clue string decoded so tests compare structure, not formatting."""
    data = parse_step(command, *args).step.to_payload()
    for selector in data.get("target", {}).get("selectors", []):
        selector["value"] = json.loads(selector["value"])
    return data


def guess(clue: str, **extra: str) -> dict[str, Any]:
    return {"selectors": [{"type": "GUESS", "value": {"clue": clue, **extra}}]}


def ai(clue: str) -> dict[str, Any]:
    return {"selectors": [{"kind": "AI", "value": {"clue": clue}}]}
