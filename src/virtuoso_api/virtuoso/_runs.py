"""Running tests: start a goal, chosen journeys, one journey or a plan; follow and report a run.

Requests as SpotQA's own client sends them (``spotqa/robot-framework-virtuoso`` ``API/Virtuoso.py``:
``execute_goal``, ``execute_journeys``, ``execute_plan``, ``check_execution_outcome``) and as its CI
script does (``pratyushShriv/code`` ``execute.py``). A request that starts a run is sent once and never
retried once it may have reached Virtuoso; its answer is read tolerantly (:meth:`Execution.read`), so a
2xx answer never becomes an error for a caller who would then start the run a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso._envelope import Envelope
from virtuoso_api.virtuoso.errors import VirtuosoProtocolError
from virtuoso_api.virtuoso.executions import Execution, ExecutionReport, PlanExecution
from virtuoso_api.virtuoso.models import ExecutionAnalysis

logger = logging.getLogger(__name__)

_BARE = {"envelope": False}
_ENVELOPE_KEYS = frozenset({"success", "item", "items", "map", "error"})


class RunsApi(ClientBase):
    # POST /goals/{goalId}/execute?envelope=false, body {}  (SpotQA: Goal.execute_goal)
    async def execute_goal(self, goal_id: int) -> Execution:
        """Run every journey of the goal's latest version."""
        answer = await self._start(f"/goals/{goal_id}/execute", {}, resource=f"goal {goal_id}", bare=True)
        return Execution.read(answer)

    # POST /goals/{goalId}/snapshots/{snapshotId}/execute?envelope=false  (SpotQA: execute_journeys)
    async def execute_goal_snapshot(
        self,
        goal_id: int,
        snapshot_id: int,
        *,
        journey_ids: Sequence[int],
        tags: Sequence[str] = (),
        environment_id: int | None = None,
    ) -> Execution:
        """Run the given journeys of one goal version. ``tags`` label the run. ``environmentId`` in
        this body is UNVERIFIED (the evidence shows it only in a run's ``meta.executionRequest``)."""
        body: dict[str, Any] = {"tags": list(tags), "suiteIds": list(journey_ids)}
        if environment_id is not None:
            body["environmentId"] = environment_id
        answer = await self._start(
            f"/goals/{goal_id}/snapshots/{snapshot_id}/execute",
            body,
            resource=f"snapshot {snapshot_id} of goal {goal_id}",
            bare=True,
        )
        return Execution.read(answer)

    # POST /testsuites/{journeyId}/execute  (answer: item.id)
    async def execute_journey(self, journey_id: int) -> Execution:
        answer = await self._start(
            f"/testsuites/{journey_id}/execute", {}, resource=f"journey {journey_id}", bare=False
        )
        return Execution.read(answer)

    # POST /plans/executions/{planId}/execute?envelope=false, optional {"environmentId": N}
    async def execute_plan(self, plan_id: int, *, environment_id: int | None = None) -> PlanExecution:
        """Run a plan: one run per entry of the answer's ``jobs`` (:attr:`PlanExecution.job_ids`)."""
        body: dict[str, Any] = {} if environment_id is None else {"environmentId": environment_id}
        answer = await self._start(
            f"/plans/executions/{plan_id}/execute", body, resource=f"plan {plan_id}", bare=True
        )
        return PlanExecution.read(answer)

    # GET /executions/{executionId}/status?envelope=false  (SpotQA: check_execution_outcome)
    async def get_execution_status(self, execution_id: int, *, retry: bool = True) -> Execution:
        """The run's status, outcome, progress and counts; finished when :attr:`Execution.finished`.
        ``retry=False``: one attempt, for a poll loop that keeps its own schedule (and its own
        pace when Virtuoso answers 429)."""
        envelope = await self._http.request(
            "GET",
            f"/executions/{execution_id}/status",
            params=_BARE,
            resource=f"execution {execution_id}",
            retry=retry,
        )
        return Execution.read(_object_of(envelope))

    # GET /plans/executions/status/{planExecutionId}  (path from the evidence; shape unverified)
    async def get_plan_execution_status(self, plan_execution_id: int) -> PlanExecution:
        envelope = await self._http.request(
            "GET",
            f"/plans/executions/status/{plan_execution_id}",
            params=_BARE,
            resource=f"plan execution {plan_execution_id}",
        )
        return PlanExecution.read(_object_of(envelope))

    # GET /testsuites/execution?jobId=&envelope=false  (SpotQA: execution_screenshots main.py)
    async def get_execution_report(self, execution_id: int) -> ExecutionReport:
        """Per journey, the outcome of each step the run reached."""
        envelope = await self._http.request(
            "GET",
            "/testsuites/execution",
            params={"jobId": execution_id, **_BARE},
            resource=f"execution {execution_id}",
        )
        return ExecutionReport.read(_object_of(envelope))

    # GET /executions/analysis/{executionId}[?includeAI=true]  (UNVERIFIED: the original's only)
    async def get_execution_analysis(
        self, execution_id: int, *, include_ai: bool = False
    ) -> ExecutionAnalysis:
        envelope = await self._http.request(
            "GET",
            f"/executions/analysis/{execution_id}",
            params={"includeAI": True} if include_ai else None,
            resource=f"execution {execution_id}",
        )
        return envelope.one(ExecutionAnalysis)

    async def _start(self, path: str, body: dict[str, Any], *, resource: str, bare: bool) -> dict[str, Any]:
        """Send a request that starts a run; the started object, ``{}`` when a 2xx answer is
        unreadable (the run exists; only its description was lost)."""
        try:
            envelope = await self._http.request(
                "POST", path, params=_BARE if bare else None, json_body=body, resource=resource
            )
        except VirtuosoProtocolError as exc:
            logger.warning("POST %s started a run but its answer could not be read: %s", path, exc.message)
            return {}
        return _object_of(envelope)


def _object_of(envelope: Envelope) -> dict[str, Any]:
    """``item`` when enveloped, else the bare object (``?envelope=false``); ``{}`` for anything else."""
    if isinstance(envelope.item, dict):
        return envelope.item
    if isinstance(envelope.body, dict):
        return {key: value for key, value in envelope.body.items() if key not in _ENVELOPE_KEYS}
    return {}
