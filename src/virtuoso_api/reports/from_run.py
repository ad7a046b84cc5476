"""A run of the runs domain (its normalised view, Virtuoso's report and the journeys' definitions) as
a :class:`ReportModel`: one row per step the report has, named as ``runs/junit.py`` names them."""

from __future__ import annotations

from virtuoso_api.reports.model import Link, Outcome, ReportKind, ReportModel, StepRow, StepStatus, counted
from virtuoso_api.runs.events import outcome_of
from virtuoso_api.runs.junit import JunitRun
from virtuoso_api.runs.models import Verdict

_STATUSES = {"PASS": StepStatus.PASSED, "FAIL": StepStatus.FAILED, "ERROR": StepStatus.ERROR}


def run_report(run: JunitRun) -> ReportModel:
    view = run.view
    rows: list[StepRow] = []
    for journey in run.report.journeys:
        definition = run.journeys.get(journey.id) if journey.id is not None else None
        titles: dict[str, str] = {}
        commands: dict[int, str] = {}
        for case in definition.cases if definition else []:
            for key in (case.canonical_id, str(case.id)):
                if key:
                    titles[key] = case.title
            for defined in case.steps:
                commands[defined.id] = defined.action or ""
        for key, steps in journey.checkpoints.items():
            group = f"{journey.label} / {titles.get(key, f'checkpoint {key}')}"
            for number, step in enumerate(steps, start=1):
                status = _STATUSES.get(step.outcome or "", StepStatus.SKIPPED)
                if not view.finished and status is StepStatus.PASSED:
                    status = StepStatus.NOT_RUN  # a pass is final only once the run ended
                rows.append(
                    StepRow(
                        group=group,
                        name=f"step {number}" + (f" ({step.step_id})" if step.step_id is not None else ""),
                        command=commands.get(step.step_id or -1) or None,
                        status=status,
                        error=step.error,
                        duration_ms=step.duration,
                    )
                )
    title = f"Virtuoso execution {view.execution_id}" + (f" (goal {view.goal_id})" if view.goal_id else "")
    return ReportModel(
        kind=ReportKind.RUN,
        id=str(view.execution_id),
        title=title,
        outcome=Outcome.RUNNING if view.verdict is Verdict.RUNNING else Outcome(outcome_of(view)),
        status=view.status,
        counts=counted(rows),
        duration_ms=view.duration_ms,
        started_at=view.started_at or view.submitted_at,
        ended_at=view.ended_at,
        links=[Link(label="Virtuoso", url=view.ui_url)] if view.ui_url else [],
        steps=rows,
    )
