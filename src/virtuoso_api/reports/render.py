"""A :class:`ReportModel` as result JSON, JUnit XML, and one self-contained HTML page.

The HTML is a Jinja2 template with autoescaping on (every text from Virtuoso or a suite file is
escaped), its styles inline and no script, image or font from anywhere: it opens from a signed link,
offline, and on a phone (one column, rows that wrap). JUnit XML is written with the standard
library's ElementTree, as ``runs/junit.py`` writes it for a run's own answer (one test case per step,
``classname`` its group), from the plain model so suite runs get the same.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any, Final

from jinja2 import Environment, PackageLoader, select_autoescape

from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.reports.model import ReportModel, StepStatus

_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def result_json(model: ReportModel) -> bytes:
    return json.dumps(model.model_dump(mode="json"), indent=2, ensure_ascii=False).encode("utf-8")


def junit_xml(model: ReportModel) -> bytes:
    root = ET.Element("testsuites", name="Virtuoso")
    suite = ET.SubElement(root, "testsuite", name=_clean(model.title))
    if model.started_at is not None:
        suite.set("timestamp", format_timestamp(model.started_at))
    properties = ET.SubElement(suite, "properties")
    for key, value in (("id", model.id), ("outcome", model.outcome.value), ("source", model.source)):
        if value is not None:
            ET.SubElement(properties, "property", name=key, value=_clean(value))
    for link in model.links:
        ET.SubElement(properties, "property", name=f"link:{_clean(link.label)}", value=_clean(link.url))
    for step in model.steps:
        name = step.name + (f" (line {step.line})" if step.line is not None else "")
        case = ET.SubElement(suite, "testcase", classname=_clean(step.group), name=_clean(name))
        if step.duration_ms is not None:
            case.set("time", f"{step.duration_ms / 1000:.3f}")
        message = _clean(step.error or step.status.value)
        if step.status is StepStatus.FAILED:
            ET.SubElement(case, "failure", message=message, type="FAIL")
        elif step.status is StepStatus.ERROR:
            ET.SubElement(case, "error", message=message, type="ERROR")
        elif step.status is not StepStatus.PASSED:
            ET.SubElement(case, "skipped", message=message)
    counts = model.counts
    seconds = f"{(model.duration_ms or 0) / 1000:.3f}"
    for element in (root, suite):
        element.set("tests", str(len(model.steps)))
        element.set("failures", str(sum(s.status is StepStatus.FAILED for s in model.steps)))
        element.set("errors", str(sum(s.status is StepStatus.ERROR for s in model.steps)))
        element.set("skipped", str(len(model.steps) - counts.passed - counts.failed - counts.errors))
        element.set("time", seconds)
    ET.indent(root)
    return (ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n").encode("utf-8")


def html_report(model: ReportModel) -> bytes:
    return _environment().get_template("report.html.j2").render(report=model).encode("utf-8")


def html_index(entries: list[tuple[str, str]], *, title: str) -> bytes:
    """The reports index: ``(label, link)`` per report, newest first."""
    return _environment().get_template("index.html.j2").render(entries=entries, title=title).encode("utf-8")


def html_api_docs(document: dict[str, Any]) -> bytes:
    """The OpenAPI document as one page: each operation with its summary, parameters and answers."""
    operations = []
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary") or "",
                    "description": operation.get("description") or "",
                    "parameters": [p.get("name", "") for p in operation.get("parameters", [])],
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    info = document.get("info", {})
    template = _environment().get_template("api_docs.html.j2")
    return template.render(info=info, operations=operations).encode("utf-8")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("virtuoso_api.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = _duration
    environment.filters["when"] = lambda value: format_timestamp(value) if value is not None else "—"
    return environment


def _duration(milliseconds: int | None) -> str:
    if milliseconds is None:
        return "—"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)
