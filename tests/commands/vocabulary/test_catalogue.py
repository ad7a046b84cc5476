"""The catalogue is generated from the specs, lists every command, and every example works."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from virtuoso_api.commands.vocabulary import StepCommand, catalogue, command_names, parse_command
from virtuoso_api.commands.vocabulary.catalogue import CatalogueEntry
from virtuoso_api.virtuoso.steps import StepCreate

ENTRIES = catalogue()


def _id(entry: CatalogueEntry) -> str:
    return f"{entry['command']} {entry['subcommand']}".strip()


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_every_example_parses(entry: CatalogueEntry) -> None:
    example = entry["example"]
    parsed = parse_command(example["command"], example["args"])
    if entry["kind"] == "step":
        assert isinstance(parsed, StepCommand)
        assert parsed.subcommand == entry["subcommand"]
        # Validated from the wire form (aliases), as the sandbox and Virtuoso receive it.
        body = {"checkpointId": 1, "stepIndex": 1, "parsedStep": parsed.step.to_payload()}
        created = StepCreate.model_validate(body)
        assert created.parsed_step == parsed.step
        assert created.to_payload() == body
    else:
        assert not isinstance(parsed, StepCommand)


def test_step_leaf_counts_match_the_original_vocabulary() -> None:
    steps = Counter(entry["command"] for entry in ENTRIES if entry["kind"] == "step")
    assert steps == {
        "step-assert": 12,
        "step-interact": 15,
        "step-navigate": 8,
        "step-window": 7,
        "step-data": 7,
        "step-dialog": 4,
        "step-wait": 2,
        "step-file": 2,
        "step-misc": 2,
    }
    assert sum(steps.values()) == 59


def test_library_and_management_commands_are_listed() -> None:
    library = [entry["subcommand"] for entry in ENTRIES if entry["kind"] == "library"]
    assert library == ["add", "get", "update", "attach", "move-step", "remove-step"]
    management = [entry["command"] for entry in ENTRIES if entry["kind"] == "management"]
    assert management == [
        "create-project",
        "list-projects",
        "create-goal",
        "list-goals",
        "create-journey",
        "list-journeys",
        "create-checkpoint",
        "list-checkpoints",
        "list-steps",
        "get-step",
        "execute-goal",
        "execute-journey",
        "execute-plan",
        "get-execution",
        "get-execution-analysis",
    ]
    assert command_names() == list(dict.fromkeys(entry["command"] for entry in ENTRIES))


def test_catalogue_is_json_serialisable() -> None:
    assert json.loads(json.dumps(ENTRIES)) == ENTRIES


def test_entries_are_complete() -> None:
    for entry in ENTRIES:
        assert entry["description"], _id(entry)
        assert entry["usage"].startswith(_id(entry))
        flags = [flag["name"] for flag in entry["flags"]]
        assert ("--at" in flags) == (entry["kind"] == "step"), _id(entry)


def test_an_entry_in_full() -> None:
    entry = next(e for e in ENTRIES if e["command"] == "step-wait" and e["subcommand"] == "element")
    assert entry == {
        "command": "step-wait",
        "subcommand": "element",
        "aliases": [],
        "kind": "step",
        "description": "Wait until an element is visible, up to --timeout ms (default 20000).",
        "usage": "step-wait element SELECTOR [--timeout MS] [--at N]",
        "arguments": [
            {
                "name": "selector",
                "type": "selector",
                "accepts": "element hint: visible text, a CSS selector or text=...; not empty",
                "description": "the element to wait for",
                "required": True,
                "variadic": False,
            }
        ],
        "flags": [
            {
                "name": "--timeout",
                "type": "ms",
                "accepts": "whole number from 0 to 60000",
                "description": "how long to wait, 0-60000 ms",
                "default": 20000,
            },
            {
                "name": "--at",
                "type": "N",
                "accepts": "whole number >= 1",
                "description": "insert the step at this 1-based position (later steps move down); "
                "without it the step is appended",
                "default": None,
            },
        ],
        "example": {"command": "step-wait", "args": ["element", "Success message", "--timeout", "5000"]},
    }


def test_aliases_are_in_the_catalogue() -> None:
    by_id = {_id(entry): entry for entry in ENTRIES}
    assert by_id["step-navigate to"]["aliases"] == ["url", "goto"]
    assert by_id["step-file upload-url"]["aliases"] == ["url"]
    assert by_id["list-steps"]["aliases"] == ["list-checkpoint-steps"]
