"""Running management and library commands against Virtuoso, one case per intent.

Runs (``execute-goal``, ``execute-journey``, ``execute-plan``, ``get-execution``) go through the run
service, as HTTP's ``/api/v1/runs`` and the CLI's ``runs`` do.
"""

from __future__ import annotations

from typing import Any

from virtuoso_api.api_keys.models import Principal
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
    RemoveLibraryStep,
    RenameLibraryCheckpoint,
)
from virtuoso_api.history.models import Source
from virtuoso_api.runs import RunRequest, RunService
from virtuoso_api.virtuoso import VirtuosoClient
from virtuoso_api.virtuoso.models import VirtuosoModel

#: Intents that create something in Virtuoso (answered 201 rather than 200).
CREATING = (
    CreateProject,
    CreateGoal,
    CreateJourney,
    CreateCheckpoint,
    ExecuteGoal,
    ExecuteJourney,
    ExecutePlan,
    AddToLibrary,
    AttachLibraryCheckpoint,
)


def _dump(model: VirtuosoModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _many(name: str, models: list[Any]) -> dict[str, Any]:
    return {name: [_dump(model) for model in models], "count": len(models)}


async def run_intent(
    client: VirtuosoClient, runs: RunService, intent: Intent, *, caller: Principal, source: Source
) -> dict[str, Any]:
    """The result object of one management or library command."""
    result = await _runs(runs, intent, caller=caller, source=source)
    if result is not None:
        return result
    for runner in (_structure, _steps, _library):
        result = await runner(client, intent)
        if result is not None:
            return result
    raise AssertionError(f"no runner for {type(intent).__name__}")  # the vocabulary grew: add a case


async def _runs(
    runs: RunService, intent: Intent, *, caller: Principal, source: Source
) -> dict[str, Any] | None:
    request: RunRequest | None = None
    match intent:
        case ExecuteGoal(goal_id=goal_id, snapshot_id=snapshot_id):
            request = RunRequest(goal_id=goal_id, snapshot_id=snapshot_id)
        case ExecuteJourney(journey_id=journey_id):
            request = RunRequest(journey_id=journey_id)
        case ExecutePlan(plan_id=plan_id, environment_id=environment_id):
            request = RunRequest(plan_id=plan_id, environment_id=environment_id)
        case GetExecution(execution_id=execution_id):
            return {"run": (await runs.status(execution_id)).model_dump(mode="json")}
    if request is None:
        return None
    return (await runs.start(caller, request, source=source)).model_dump(mode="json")


async def _structure(client: VirtuosoClient, intent: Intent) -> dict[str, Any] | None:
    match intent:
        case CreateProject(name=name, description=description):
            return {"project": _dump(await client.create_project(name, description=description or ""))}
        case ListProjects(limit=limit, offset=offset):
            return _many("projects", await client.list_projects(limit=limit, offset=offset))
        case CreateGoal(project_id=project_id, name=name, url=url):
            return {"goal": _dump(await client.create_goal(project_id, name, url))}
        case ListGoals(project_id=project_id):
            return _many("goals", await client.list_goals(project_id))
        case CreateJourney(goal_id=goal_id, name=name, snapshot_id=snapshot_id):
            snapshot = snapshot_id or await client.first_snapshot_id(goal_id)
            return {"journey": _dump(await client.create_journey(goal_id, snapshot, name))}
        case ListJourneys(goal_id=goal_id, snapshot_id=snapshot_id):
            snapshot = snapshot_id or await client.first_snapshot_id(goal_id)
            return _many("journeys", await client.list_journeys(goal_id, snapshot))
        case CreateCheckpoint(journey_id=journey_id, name=name, position=position):
            journey = await client.get_journey(journey_id)
            checkpoint = await client.add_checkpoint(journey, name, position=position)
            return {"checkpoint": _dump(checkpoint), "journey_id": journey_id, "position": position}
        case ListCheckpoints(journey_id=journey_id):
            journey = await client.get_journey(journey_id)
            return {**_many("checkpoints", journey.cases), "journey_id": journey_id}
    return None


async def _steps(client: VirtuosoClient, intent: Intent) -> dict[str, Any] | None:
    match intent:
        case ListSteps(checkpoint_id=checkpoint_id):
            return {**_many("steps", await client.list_steps(checkpoint_id)), "checkpoint_id": checkpoint_id}
        case GetStep(step_id=step_id):
            return {"step": _dump(await client.get_step(step_id))}
        case GetExecutionAnalysis(execution_id=execution_id):
            return {"analysis": _dump(await client.get_execution_analysis(execution_id))}
    return None


async def _library(client: VirtuosoClient, intent: Intent) -> dict[str, Any] | None:
    match intent:
        case AddToLibrary(checkpoint_id=checkpoint_id):
            return {"library_checkpoint": _dump(await client.add_to_library(checkpoint_id))}
        case GetLibraryCheckpoint(library_checkpoint_id=library_id):
            return {"library_checkpoint": _dump(await client.get_library_checkpoint(library_id))}
        case RenameLibraryCheckpoint(library_checkpoint_id=library_id, name=name):
            renamed = await client.update_library_checkpoint(library_id, name=name)
            return {"library_checkpoint": _dump(renamed)}
        case AttachLibraryCheckpoint(
            journey_id=journey_id, library_checkpoint_id=library_id, position=position
        ):
            checkpoint = await client.attach_library_checkpoint(journey_id, library_id, position)
            return {"checkpoint": _dump(checkpoint), "journey_id": journey_id, "position": position}
        case MoveLibraryStep(library_checkpoint_id=library_id, step_id=step_id, position=position):
            await client.move_library_step(library_id, step_id, position)
            return {
                "library_checkpoint_id": library_id,
                "step_id": step_id,
                "position": position,
                "moved": True,
            }
        case RemoveLibraryStep(library_checkpoint_id=library_id, step_id=step_id):
            await client.remove_library_step(library_id, step_id)
            return {"library_checkpoint_id": library_id, "step_id": step_id, "removed": True}
    return None
