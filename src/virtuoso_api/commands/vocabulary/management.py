"""Management commands (projects, goals, journeys, checkpoints, steps, executions) as typed intents.

Each parses into a small frozen intent; executing it against Virtuoso happens elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from virtuoso_api.commands.vocabulary.spec import Arg, Flag, Group, Intent, Values
from virtuoso_api.commands.vocabulary.validate import CHECKPOINT_ID, EXECUTION_ID, ID, NAME, URL, integer

MANAGEMENT = Group(
    "management", summary="Create and list projects, goals, journeys, checkpoints; run goals, journeys, plans"
)

DEFAULT_GOAL_URL = "https://www.example.com"

_SNAPSHOT = Flag("snapshot", "the goal snapshot (default: the goal's first)", ID)


@dataclass(frozen=True, slots=True)
class CreateProject(Intent):
    """Create a project."""

    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ListProjects(Intent):
    """List projects, a page at a time."""

    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class CreateGoal(Intent):
    """Create a goal (with its first journey) that starts at ``url``."""

    project_id: int
    name: str
    url: str = DEFAULT_GOAL_URL


@dataclass(frozen=True, slots=True)
class ListGoals(Intent):
    """List a project's goals."""

    project_id: int


@dataclass(frozen=True, slots=True)
class CreateJourney(Intent):
    """Create a journey in a goal; ``snapshot_id`` None means the goal's first snapshot."""

    goal_id: int
    name: str
    snapshot_id: int | None = None


@dataclass(frozen=True, slots=True)
class ListJourneys(Intent):
    """List a goal's journeys; ``snapshot_id`` None means the goal's first snapshot."""

    goal_id: int
    snapshot_id: int | None = None


@dataclass(frozen=True, slots=True)
class CreateCheckpoint(Intent):
    """Create a checkpoint and attach it to a journey at ``position`` (>= 2).

    The goal and snapshot are the journey's; they are looked up when the intent is executed.
    """

    journey_id: int
    name: str
    position: int = 2


@dataclass(frozen=True, slots=True)
class ListCheckpoints(Intent):
    """List a journey's checkpoints in order."""

    journey_id: int


@dataclass(frozen=True, slots=True)
class ListSteps(Intent):
    """List a checkpoint's steps in order."""

    checkpoint_id: int


@dataclass(frozen=True, slots=True)
class GetStep(Intent):
    """Read one step."""

    step_id: int


@dataclass(frozen=True, slots=True)
class ExecuteGoal(Intent):
    """Start a run of a goal's journeys; ``snapshot_id`` None means the goal's latest version."""

    goal_id: int
    snapshot_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExecuteJourney(Intent):
    """Start a run of one journey."""

    journey_id: int


@dataclass(frozen=True, slots=True)
class ExecutePlan(Intent):
    """Start a plan: one run per job it starts."""

    plan_id: int
    environment_id: int | None = None


@dataclass(frozen=True, slots=True)
class GetExecution(Intent):
    """Read a run's status, outcome and progress."""

    execution_id: int


@dataclass(frozen=True, slots=True)
class GetExecutionAnalysis(Intent):
    """Read an execution's results analysis (an endpoint only the original system shows)."""

    execution_id: int


ManagementIntent = (
    CreateProject
    | ListProjects
    | CreateGoal
    | ListGoals
    | CreateJourney
    | ListJourneys
    | CreateCheckpoint
    | ListCheckpoints
    | ListSteps
    | GetStep
    | ExecuteGoal
    | ExecuteJourney
    | ExecutePlan
    | GetExecution
    | GetExecutionAnalysis
)

_NAME = Arg("name", NAME, "the name")


@MANAGEMENT.define(
    command="create-project",
    args=(_NAME,),
    flags=(Flag("description", "what the project is for", NAME, short="d"),),
    example=("My project", "--description", "Checkout tests"),
)
def create_project(values: Values) -> CreateProject:
    """Create a project."""
    return CreateProject(values.text("name"), values.optional("description", str))


@MANAGEMENT.define(
    command="list-projects",
    flags=(
        Flag("limit", "how many to list", integer(1, name="N"), default=50),
        Flag("offset", "how many to skip", integer(0, name="N"), default=0),
    ),
    example=("--limit", "10"),
)
def list_projects(values: Values) -> ListProjects:
    """List projects."""
    return ListProjects(values.number("limit"), values.number("offset"))


@MANAGEMENT.define(
    command="create-goal",
    args=(Arg("project-id", ID, "the project"), _NAME),
    flags=(Flag("url", "the URL the goal starts at", URL, default=DEFAULT_GOAL_URL),),
    example=("1234", "Checkout", "--url", "https://shop.example.com"),
)
def create_goal(values: Values) -> CreateGoal:
    """Create a goal in a project."""
    return CreateGoal(values.number("project-id"), values.text("name"), values.text("url"))


@MANAGEMENT.define(command="list-goals", args=(Arg("project-id", ID, "the project"),), example=("1234",))
def list_goals(values: Values) -> ListGoals:
    """List a project's goals."""
    return ListGoals(values.number("project-id"))


@MANAGEMENT.define(
    command="create-journey",
    args=(Arg("goal-id", ID, "the goal"), _NAME),
    flags=(_SNAPSHOT,),
    example=("5678", "Guest checkout"),
)
def create_journey(values: Values) -> CreateJourney:
    """Create a journey in a goal."""
    return CreateJourney(values.number("goal-id"), values.text("name"), values.optional("snapshot", int))


@MANAGEMENT.define(
    command="list-journeys",
    args=(Arg("goal-id", ID, "the goal"),),
    flags=(_SNAPSHOT,),
    example=("5678",),
)
def list_journeys(values: Values) -> ListJourneys:
    """List a goal's journeys."""
    return ListJourneys(values.number("goal-id"), values.optional("snapshot", int))


@MANAGEMENT.define(
    command="create-checkpoint",
    args=(Arg("journey-id", ID, "the journey"), _NAME),
    flags=(
        Flag("position", "where in the journey, >= 2 (1 is the navigation)", integer(2, name="N"), default=2),
    ),
    example=("501", "Fill in the address", "--position", "3"),
)
def create_checkpoint(values: Values) -> CreateCheckpoint:
    """Create a checkpoint and attach it to a journey.

    Only the journey id is taken: its goal and snapshot are looked up when the intent runs (the
    original asked for all three and could be given a mismatched set).
    """
    return CreateCheckpoint(values.number("journey-id"), values.text("name"), values.number("position"))


@MANAGEMENT.define(command="list-checkpoints", args=(Arg("journey-id", ID, "the journey"),), example=("501",))
def list_checkpoints(values: Values) -> ListCheckpoints:
    """List a journey's checkpoints."""
    return ListCheckpoints(values.number("journey-id"))


@MANAGEMENT.define(
    command="list-steps",
    aliases=("list-checkpoint-steps",),
    args=(Arg("checkpoint-id", CHECKPOINT_ID, "the checkpoint (cp_ prefix optional)"),),
    example=("cp_1234",),
)
def list_steps(values: Values) -> ListSteps:
    """List a checkpoint's steps."""
    return ListSteps(values.number("checkpoint-id"))


@MANAGEMENT.define(command="get-step", args=(Arg("step-id", ID, "the step"),), example=("9001",))
def get_step(values: Values) -> GetStep:
    """Show one step."""
    return GetStep(values.number("step-id"))


@MANAGEMENT.define(
    command="execute-goal",
    args=(Arg("goal-id", ID, "the goal"),),
    flags=(Flag("snapshot", "the goal version (default: the latest)", ID),),
    example=("5678", "--snapshot", "42"),
)
def execute_goal(values: Values) -> ExecuteGoal:
    """Run every journey of a goal."""
    return ExecuteGoal(values.number("goal-id"), values.optional("snapshot", int))


@MANAGEMENT.define(command="execute-journey", args=(Arg("journey-id", ID, "the journey"),), example=("501",))
def execute_journey(values: Values) -> ExecuteJourney:
    """Run one journey."""
    return ExecuteJourney(values.number("journey-id"))


@MANAGEMENT.define(
    command="execute-plan",
    args=(Arg("plan-id", ID, "the plan"),),
    flags=(Flag("environment", "the environment to run in", ID),),
    example=("77", "--environment", "2418"),
)
def execute_plan(values: Values) -> ExecutePlan:
    """Run a plan (one run per job it starts)."""
    return ExecutePlan(values.number("plan-id"), values.optional("environment", int))


@MANAGEMENT.define(
    command="get-execution",
    args=(Arg("execution-id", EXECUTION_ID, "the run (execution id)"),),
    example=("88715",),
)
def get_execution(values: Values) -> GetExecution:
    """Show a run's status, outcome and progress."""
    return GetExecution(values.number("execution-id"))


@MANAGEMENT.define(
    command="get-execution-analysis",
    args=(Arg("execution-id", EXECUTION_ID, "the run (execution id)"),),
    example=("88715",),
)
def get_execution_analysis(values: Values) -> GetExecutionAnalysis:
    """Show an execution's analysis: summary, failures, performance (unverified endpoint)."""
    return GetExecutionAnalysis(values.number("execution-id"))
