"""JUnit XML stays a readable document whatever Virtuoso's names hold, and never shows a pass that
did not happen."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from virtuoso_api.runs.junit import JunitRun, junit_xml
from virtuoso_api.runs.normalise import view_of
from virtuoso_api.virtuoso.executions import Execution, ExecutionReport


def _view(**answer: Any) -> Any:
    return view_of(Execution.read({"id": 7, "goalId": 3, **answer}), project_id=None, ui_base=None)


def _report(title: str, *outcomes: str) -> ExecutionReport:
    steps = {
        str(n): {"stepId": n, "outcome": o, "error": f"boom \x00 {title}"} for n, o in enumerate(outcomes, 1)
    }
    journey = {
        "journey": {"id": 9, "title": title},
        "lastExecution": {"report": {"checkpoints": {"c": {"steps": steps}}}},
    }
    return ExecutionReport.read({"journeys": {"9": journey}})


def test_names_with_characters_xml_cannot_hold_still_give_a_document() -> None:
    title = 'Log in <as> "admin" & \x01\x1b[31m\ud800 ✓'
    view = _view(status="FINISHED", outcome="FAIL")
    text = junit_xml([JunitRun(view=view, report=_report(title, "PASS", "FAIL", "NOT_REACHED"))])
    root = ET.fromstring(text.encode())
    names = [case.get("name") for case in root.iter("testcase")]
    assert names[0] == 'Log in <as> "admin" & [31m ✓'
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "2", "1")


def test_before_a_run_ends_only_failures_are_final() -> None:
    view = _view(status="RUNNING")
    root = ET.fromstring(junit_xml([JunitRun(view=view, report=_report("J", "PASS", "FAIL"))]).encode())
    outcomes = [
        "failure"
        if case.find("failure") is not None
        else "skipped"
        if case.find("skipped") is not None
        else "pass"
        for case in root.iter("testcase")
    ]
    assert outcomes == ["failure", "skipped", "failure"]  # the journey, its passed step, its failed step


def test_a_run_without_a_report_is_one_case_with_its_outcome() -> None:
    for answer, expected in [
        ({"status": "FINISHED", "outcome": "PASS"}, None),
        ({"status": "FINISHED", "outcome": "FAIL"}, "failure"),
        ({"status": "CANCELED"}, "error"),
        ({"status": "QUEUED"}, "skipped"),
    ]:
        root = ET.fromstring(junit_xml([JunitRun(view=_view(**answer), report=ExecutionReport())]).encode())
        (case,) = root.iter("testcase")
        assert [child.tag for child in case] == ([expected] if expected else []), answer
