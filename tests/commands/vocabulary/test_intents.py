"""Management and library commands parse into typed intents."""

from __future__ import annotations

import pytest

from virtuoso_api.commands.vocabulary import (
    AddToLibrary,
    AttachLibraryCheckpoint,
    CreateCheckpoint,
    CreateGoal,
    CreateJourney,
    CreateProject,
    ExecuteGoal,
    ExecuteJourney,
    ExecutePlan,
    GetExecution,
    GetExecutionAnalysis,
    GetLibraryCheckpoint,
    GetStep,
    Intent,
    ListCheckpoints,
    ListGoals,
    ListJourneys,
    ListProjects,
    ListSteps,
    MoveLibraryStep,
    ParsedCommand,
    RemoveLibraryStep,
    RenameLibraryCheckpoint,
    parse_command,
)

CASES: list[tuple[str, list[str], ParsedCommand]] = [
    ("create-project", ["My project"], CreateProject("My project", None)),
    ("create-project", ["My project", "--description", "x"], CreateProject("My project", "x")),
    ("list-projects", [], ListProjects(limit=50, offset=0)),
    ("list-projects", ["--offset", "100", "--limit", "25"], ListProjects(limit=25, offset=100)),
    ("create-goal", ["12", "Checkout"], CreateGoal(12, "Checkout", "https://www.example.com")),
    (
        "create-goal",
        ["12", "Checkout", "--url", "https://shop.io"],
        CreateGoal(12, "Checkout", "https://shop.io"),
    ),
    ("list-goals", ["12"], ListGoals(12)),
    ("create-journey", ["34", "Guest"], CreateJourney(34, "Guest", None)),
    ("create-journey", ["34", "Guest", "--snapshot", "56"], CreateJourney(34, "Guest", 56)),
    ("list-journeys", ["34"], ListJourneys(34, None)),
    ("list-journeys", ["34", "--snapshot", "56"], ListJourneys(34, 56)),
    ("create-checkpoint", ["78", "Address"], CreateCheckpoint(78, "Address", 2)),
    ("create-checkpoint", ["78", "Address", "--position", "5"], CreateCheckpoint(78, "Address", 5)),
    ("list-checkpoints", ["78"], ListCheckpoints(78)),
    ("list-steps", ["90"], ListSteps(90)),
    ("list-steps", ["cp_90"], ListSteps(90)),
    ("get-step", ["1001"], GetStep(1001)),
    ("execute-goal", ["34"], ExecuteGoal(34, None)),
    ("execute-goal", ["34", "--snapshot", "56"], ExecuteGoal(34, 56)),
    ("execute-journey", ["401"], ExecuteJourney(401)),
    ("execute-plan", ["77"], ExecutePlan(77, None)),
    ("execute-plan", ["77", "--environment", "2418"], ExecutePlan(77, 2418)),
    ("get-execution", ["88715"], GetExecution(88715)),
    ("get-execution-analysis", ["88715"], GetExecutionAnalysis(88715)),
    ("library", ["add", "90"], AddToLibrary(90)),
    ("library", ["add", "cp_90"], AddToLibrary(90)),
    ("library", ["get", "lib_7"], GetLibraryCheckpoint(7)),
    ("library", ["get", "7"], GetLibraryCheckpoint(7)),
    ("library", ["update", "lib_7", "Log in"], RenameLibraryCheckpoint(7, "Log in")),
    ("library", ["attach", "34", "lib_7", "3"], AttachLibraryCheckpoint(34, 7, 3)),
    ("library", ["move-step", "lib_7", "1001", "1"], MoveLibraryStep(7, 1001, 1)),
    ("library", ["remove-step", "7", "1001"], RemoveLibraryStep(7, 1001)),
]


@pytest.mark.parametrize(("command", "args", "expected"), CASES, ids=[" ".join([c, *a]) for c, a, _ in CASES])
def test_intent(command: str, args: list[str], expected: ParsedCommand) -> None:
    parsed = parse_command(command, args)
    assert type(parsed) is type(expected)
    assert parsed == expected
    assert isinstance(parsed, Intent)


def test_intents_are_frozen() -> None:
    intent = CreateProject("P")
    with pytest.raises(AttributeError):
        intent.name = "Q"  # type: ignore[misc]


def test_extra_and_missing_arguments() -> None:
    from virtuoso_api.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        parse_command("create-journey", ["34", "99", "Guest"])  # the original's GOAL SNAPSHOT NAME order
    assert caught.value.field == "args[2]"
    with pytest.raises(InvalidInput) as caught:
        parse_command("library", ["attach", "34", "7"])
    assert caught.value.field == "args[3]"
    assert "missing POSITION" in caught.value.reason
