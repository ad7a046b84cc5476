"""Virtuoso's execution answer → the one shape every interface shows (:class:`RunView`), and links
to a run's page in the Virtuoso UI."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from virtuoso_api.runs.models import RunView, TestCounts, verdict_of
from virtuoso_api.virtuoso.executions import OUTCOMES, Execution

# SpotQA's client: the API of an environment is https://api-<env>.virtuoso.qa/api and its UI
# https://app-<env>.virtuoso.qa; production is https://api.virtuoso.qa/api and https://app.virtuoso.qa.
_VIRTUOSO_API_HOST = re.compile(r"api(?:-(?P<env>[a-z0-9-]+))?\.virtuoso\.qa")


def ui_base_for(api_base_url: str, ui_url: str | None) -> str | None:
    """Where run links point: ``ui_url`` when set, else derived for Virtuoso's own API hosts, else
    ``None`` (a sandbox or a proxy has no UI we know of)."""
    if ui_url:
        return ui_url.rstrip("/")
    host = (urlsplit(api_base_url).hostname or "").lower()
    matched = _VIRTUOSO_API_HOST.fullmatch(host)
    if matched is None:
        return None
    env = matched.group("env")
    return f"https://app-{env}.virtuoso.qa" if env else "https://app.virtuoso.qa"


def ui_link(ui_base: str | None, project_id: int | None, execution_id: int) -> str | None:
    """``{ui}/#/project/{projectId}/execution/{executionId}`` (the page the evidence shows)."""
    if ui_base is None or project_id is None:
        return None
    return f"{ui_base}/#/project/{project_id}/execution/{execution_id}"


def view_of(execution: Execution, *, project_id: int | None, ui_base: str | None) -> RunView:
    assert execution.id is not None, "a run without an id cannot be shown"
    counts = dict(execution.journey_statistics.count_per_outcome)
    for outcome in OUTCOMES:
        counts.setdefault(outcome, 0)
    return RunView(
        execution_id=execution.id,
        status=execution.status,
        outcome=execution.outcome,
        verdict=verdict_of(execution),
        finished=execution.finished,
        progress=execution.progress,
        counts=counts,
        journeys=execution.journey_statistics.total_count,
        tests=TestCounts(
            total=execution.total_test_executions,
            passed=execution.successful_test_executions,
            failed=execution.failed_test_executions,
            skipped=execution.skipped_test_executions,
            not_reached=execution.not_reached_test_executions,
        ),
        goal_id=execution.goal_id,
        snapshot_id=execution.snapshot_id,
        project_id=project_id,
        environment_id=execution.environment_id,
        tags=execution.tags,
        submitted_at=execution.submit_date,
        started_at=execution.start_date,
        ended_at=execution.end_date,
        duration_ms=execution.duration,
        ui_url=ui_link(ui_base, project_id, execution.id),
        virtuoso=execution.raw,
    )
