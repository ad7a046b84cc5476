"""JUnit XML for runs, so Jenkins, GitLab and GitHub show Virtuoso's results as their own tests.

One ``<testsuite>`` per run; in it one ``<testcase>`` per journey, then one per step the run's report
has (``classname`` is the journey, so CI tools group the steps under it). A run whose report cannot be
read still gets one test case carrying its outcome. Outcomes: PASS passes, FAIL is a ``<failure>``,
ERROR an ``<error>``, SKIP and NOT_REACHED are ``<skipped>``; a journey or run that has not ended is
``<skipped>`` with that said, so a report written early never shows a pass that did not happen.

Built with the standard library's ElementTree (writing only: nothing here parses XML), which escapes
text and attributes; characters XML 1.0 cannot carry at all are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.runs.models import RunView
from virtuoso_api.virtuoso.executions import ExecutionReport, JourneyReport, StepReport
from virtuoso_api.virtuoso.models import Journey

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates and two
# non-characters; anything else makes the document unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class JunitRun:
    view: RunView
    report: ExecutionReport
    journeys: Mapping[int, Journey] = field(default_factory=dict)


@dataclass(frozen=True)
class JunitCase:
    """A test case of its own, outside any run (a suite file: did its steps go in, did it pass).
    ``outcome`` reads as a step's: PASS, FAIL, ERROR, or anything else for skipped."""

    classname: str
    name: str
    outcome: str | None
    seconds: float | None = None
    message: str | None = None


@dataclass
class _Totals:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def add(self, other: _Totals) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped
        self.seconds += other.seconds

    def write(self, element: ET.Element) -> None:
        element.set("tests", str(self.tests))
        element.set("failures", str(self.failures))
        element.set("errors", str(self.errors))
        element.set("skipped", str(self.skipped))
        element.set("time", f"{self.seconds:.3f}")


def junit_xml(runs: Sequence[JunitRun], *, cases: Sequence[JunitCase] = (), cases_name: str = "") -> str:
    """One ``<testsuite>`` per run; ``cases`` (if any) first, in a ``<testsuite>`` named ``cases_name``."""
    root = ET.Element("testsuites", name="Virtuoso")
    totals = _Totals()
    if cases:
        suite = ET.SubElement(root, "testsuite", name=_clean(cases_name or "Virtuoso"))
        counted = _Totals()
        for case in cases:
            one = _case(suite, case.classname, case.name, case.outcome, case.seconds, message=case.message)
            counted.add(one)
        counted.seconds = sum(case.seconds or 0 for case in cases)
        counted.write(suite)
        totals.add(counted)
    for run in runs:
        suite, counted = _suite(run)
        root.append(suite)
        totals.add(counted)
    totals.write(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(run: JunitRun) -> tuple[ET.Element, _Totals]:
    view = run.view
    name = f"Virtuoso execution {view.execution_id}" + (f" (goal {view.goal_id})" if view.goal_id else "")
    suite = ET.Element("testsuite", name=_clean(name))
    if view.submitted_at is not None:
        suite.set("timestamp", format_timestamp(view.submitted_at))
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("execution_id", view.execution_id),
        ("status", view.status),
        ("outcome", view.outcome),
        ("verdict", view.verdict.value),
        ("ui_url", view.ui_url),
    ):
        if value is not None:
            ET.SubElement(properties, "property", name=key, value=_clean(str(value)))
    totals = _Totals(seconds=(view.duration_ms or 0) / 1000)
    if not run.report.journeys:
        totals.add(_case(suite, "Virtuoso", name, _run_outcome(view), None, message=_run_message(view)))
    for journey in run.report.journeys:
        definition = run.journeys.get(journey.id) if journey.id is not None else None
        outcome = journey.derived_outcome if view.finished else _unfinished(journey.derived_outcome)
        totals.add(_case(suite, "Virtuoso", journey.label, outcome, None, message=_first_error(journey)))
        for label, step in _steps(journey, definition):
            step_outcome = step.outcome if view.finished else _unfinished(step.outcome)
            seconds = step.duration / 1000 if step.duration is not None else None
            totals.add(_case(suite, journey.label, label, step_outcome, seconds, message=step.error))
    totals.seconds = (view.duration_ms or 0) / 1000
    totals.write(suite)
    return suite, totals


def _case(
    suite: ET.Element,
    classname: str,
    name: str,
    outcome: str | None,
    seconds: float | None,
    *,
    message: str | None,
) -> _Totals:
    case = ET.SubElement(suite, "testcase", classname=_clean(classname), name=_clean(name))
    if seconds is not None:
        case.set("time", f"{seconds:.3f}")
    text = _clean(message or f"outcome {outcome}")
    counted = _Totals(tests=1)
    if outcome == "PASS":
        return counted
    if outcome == "FAIL":
        ET.SubElement(case, "failure", message=text, type="FAIL")
        counted.failures = 1
    elif outcome == "ERROR":
        ET.SubElement(case, "error", message=text, type="ERROR")
        counted.errors = 1
    else:
        ET.SubElement(case, "skipped", message=_clean(message or _skip_reason(outcome)))
        counted.skipped = 1
    return counted


def _steps(journey: JourneyReport, definition: Journey | None) -> list[tuple[str, StepReport]]:
    """Each step with a name people recognise: checkpoint title, position and action when the
    journey's definition has them, else the ids the report gives."""
    titles: dict[str, str] = {}
    actions: dict[int, str] = {}
    positions: dict[int, int] = {}
    for case in definition.cases if definition else []:
        for key in (case.canonical_id, str(case.id)):
            if key:
                titles[key] = case.title
        for number, defined in enumerate(case.steps, start=1):
            actions[defined.id] = defined.action or ""
            positions[defined.id] = number
    named: list[tuple[str, StepReport]] = []
    for key, steps in journey.checkpoints.items():
        checkpoint = titles.get(key, f"checkpoint {key}")
        for index, step in enumerate(steps, start=1):
            number = positions.get(step.step_id, index) if step.step_id is not None else index
            action = actions.get(step.step_id or -1, "")
            label = f"{checkpoint} / step {number}" + (f" {action}" if action else "")
            if step.step_id is not None:
                label += f" ({step.step_id})"
            named.append((label, step))
    return named


def _run_outcome(view: RunView) -> str | None:
    if not view.finished:
        return None
    if view.status == "FINISHED":
        return view.outcome
    return "ERROR"  # CANCELED or FAILED: the run did not complete


def _run_message(view: RunView) -> str:
    if not view.finished:
        return f"the run had not ended ({view.status})"
    if view.status != "FINISHED":
        return f"the run did not complete: {view.status}"
    return f"outcome {view.outcome}"


def _first_error(journey: JourneyReport) -> str | None:
    return next((step.error for step in journey.steps if step.error), None)


def _unfinished(outcome: str | None) -> str | None:
    # Until the run ends, only a failure is final; a pass might not stay one.
    return outcome if outcome in ("FAIL", "ERROR") else None


def _skip_reason(outcome: str | None) -> str:
    if outcome is None or outcome == "RUNNING":
        return "not ended when the report was written"
    return f"outcome {outcome}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)
