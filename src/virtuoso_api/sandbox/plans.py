"""Plans: one run (job) per goal of the plan, started together.

The evidence (``reference/virtuoso-evidence.md``; SpotQA's client ``Plan.execute_plan`` and CI script)
shows the start answer's ``jobs: {jobId: {...}}``, one job per run, each followed as an execution. The
plan execution's own ``id``, ``status`` and ``outcome`` and ``GET /plans/executions/status/{id}`` are
known by path only: their shape here is the sandbox's guess (UNVERIFIED), kept minimal.
"""

from __future__ import annotations

from typing import Any

from virtuoso_api.sandbox.executions import execution_json, start_execution
from virtuoso_api.sandbox.records import PlanExecutionRecord, PlanRecord
from virtuoso_api.sandbox.state import SandboxState


def start_plan(state: SandboxState, plan: PlanRecord, *, environment_id: int | None) -> PlanExecutionRecord:
    record = PlanExecutionRecord(
        id=state.new_id(),
        plan_id=plan.id,
        environment_id=environment_id,
        submitted_at=state.now(),
        job_ids=[],
    )
    for goal_id in plan.goal_ids:
        goal = state.goal(goal_id)
        journeys = [journey for journey in state.journeys_of(goal) if not journey.archived]
        job = start_execution(
            state, goal, journeys, environment_id=environment_id, plan_execution_id=record.id
        )
        record.job_ids.append(job.id)
    state.plan_executions[record.id] = record
    return record


def plan_execution_json(state: SandboxState, record: PlanExecutionRecord) -> dict[str, Any]:
    jobs = {str(job_id): execution_json(state, state.executions[job_id]) for job_id in record.job_ids}
    statuses = [job["status"] for job in jobs.values()]
    outcomes = [job["outcome"] for job in jobs.values()]
    if all(status in ("FINISHED", "CANCELED", "FAILED") for status in statuses):
        status = "FINISHED"
        outcome = (
            "FAIL" if {"FAIL", "ERROR"} & set(outcomes) else ("PASS" if set(outcomes) == {"PASS"} else None)
        )
    else:
        status = "QUEUED" if set(statuses) == {"QUEUED"} else "RUNNING"
        outcome = None
    return {
        "id": record.id,
        "planId": record.plan_id,
        "environmentId": record.environment_id,
        "status": status,
        "outcome": outcome,
        "jobs": jobs,
    }
