"""A parsed suite: what it is called, where it starts, what it runs in, and its steps as commands.

Every step is already a command of the vocabulary (``(command, args)`` that
:func:`~virtuoso_api.commands.vocabulary.parse_command` accepts), with the line it came from. The
header (project, goal, journey, checkpoint, config) is kept as the file gave it, for the runner to
find or create; nothing here talks to Virtuoso.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from virtuoso_api.commands.vocabulary import StepCommand
from virtuoso_api.suites.document import Syntax
from virtuoso_api.suites.problems import Problem


class Dialect(StrEnum):
    """How the steps are written (original-system.md §3.1); JSON files hold any of them."""

    SIMPLIFIED = "simplified"  # steps: [{click: Login}, {write: {selector, text}}]
    EXTENDED = "extended"  # steps: [{action: click, hint: Login}] or [{type: interact, command: click}]
    COMPACT = "compact"  # test, nav, data, setup/do/teardown: [{c: Login}, {t: {Email: a@b.c}}]


@dataclass(frozen=True, slots=True)
class Ref:
    """A Virtuoso object named by the file: by id, by name, or both (``project: {id, name}``)."""

    id: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Infrastructure:
    """Where the steps go, as far as the file says; the runner fills the rest (found, else created)."""

    organization_id: int | None = None
    project: Ref | None = None
    goal: Ref | None = None
    journey: Ref | None = None
    checkpoint: Ref | None = None


@dataclass(frozen=True, slots=True)
class SuiteConfig:
    """How to run: ``continue_on_error`` (default: stop at the first failed step), limits and retries."""

    continue_on_error: bool = False
    timeout_seconds: int | None = None
    retries: int | None = None
    viewport: str | None = None


@dataclass(frozen=True, slots=True)
class SuiteStep:
    """One step: the file's line, the command and its arguments, and the author's description."""

    line: int
    command: str
    args: tuple[str, ...]
    parsed: StepCommand = field(compare=False, repr=False)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A named list of steps: ``setup``, ``steps`` (``do`` in compact files) or ``teardown``.

    Sections are what may become checkpoints of the journey; a file without sections has one,
    ``steps``."""

    name: str
    line: int
    steps: tuple[SuiteStep, ...]


@dataclass(frozen=True, slots=True)
class Suite:
    source: str
    name: str
    description: str | None
    dialect: Dialect
    syntax: Syntax
    starting_url: str | None
    infrastructure: Infrastructure
    config: SuiteConfig
    #: The values ``{{name}}`` and ``$name`` were resolved from: the file's, then ``--var`` over them.
    variables: dict[str, str | list[str]]
    sections: tuple[Section, ...]
    warnings: tuple[Problem, ...]

    @property
    def steps(self) -> list[SuiteStep]:
        """Every step in the order it runs: setup, the main steps, teardown."""
        return [step for section in self.sections for step in section.steps]
