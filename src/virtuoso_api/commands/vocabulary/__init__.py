"""The command vocabulary: every command as ``(command, args)``, parsed the same way for every caller.

``parse_command("step-navigate", ["to", "https://example.com"])`` gives a :class:`StepCommand` with
the one :class:`~virtuoso_api.virtuoso.steps.ParsedStep` to add (and ``at``, from ``--at N``);
management and library commands give typed intents for the caller to execute. Each command is
declared once, in its group module; :func:`catalogue` is generated from those declarations.
"""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.catalogue import CatalogueEntry, catalogue
from virtuoso_api.commands.vocabulary.library import (
    AddToLibrary,
    AttachLibraryCheckpoint,
    GetLibraryCheckpoint,
    LibraryIntent,
    MoveLibraryStep,
    RemoveLibraryStep,
    RenameLibraryCheckpoint,
)
from virtuoso_api.commands.vocabulary.management import (
    CreateCheckpoint,
    CreateGoal,
    CreateJourney,
    CreateProject,
    ExecuteGoal,
    ExecuteJourney,
    ExecutePlan,
    GetExecution,
    GetExecutionAnalysis,
    GetStep,
    ListCheckpoints,
    ListGoals,
    ListJourneys,
    ListProjects,
    ListSteps,
    ManagementIntent,
)
from virtuoso_api.commands.vocabulary.parse import ParsedCommand, parse_command
from virtuoso_api.commands.vocabulary.registry import command_names
from virtuoso_api.commands.vocabulary.spec import Intent, StepCommand

__all__ = [
    "AddToLibrary",
    "AttachLibraryCheckpoint",
    "CatalogueEntry",
    "CreateCheckpoint",
    "CreateGoal",
    "CreateJourney",
    "CreateProject",
    "ExecuteGoal",
    "ExecuteJourney",
    "ExecutePlan",
    "GetExecution",
    "GetExecutionAnalysis",
    "GetLibraryCheckpoint",
    "GetStep",
    "Intent",
    "LibraryIntent",
    "ListCheckpoints",
    "ListGoals",
    "ListJourneys",
    "ListProjects",
    "ListSteps",
    "ManagementIntent",
    "MoveLibraryStep",
    "ParsedCommand",
    "RemoveLibraryStep",
    "RenameLibraryCheckpoint",
    "StepCommand",
    "catalogue",
    "command_names",
    "parse_command",
]
