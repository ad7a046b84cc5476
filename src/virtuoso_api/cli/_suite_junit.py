"""One JUnit report from the reports a deployed service gives per suite run
(``GET /api/v1/suites/runs/{id}/junit``), in the shape ``suites/junit.py`` writes for several files
at once: one ``<testsuite>`` of file cases first, then one per run.

Written here because the service answers per run and CI wants one file; the XML is read and written
with the standard library's ElementTree (the documents are our own service's)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

_TOTALS = ("tests", "failures", "errors", "skipped")


def merge_suite_reports(documents: Sequence[str], sources: Sequence[str]) -> str:
    """``documents[i]`` is the report of the file this client calls ``sources[i]``: its file case
    is named so (the service knows the file's base name only)."""
    root = ET.Element("testsuites", name="Virtuoso")
    cases: ET.Element | None = None
    runs: list[ET.Element] = []
    for document, source in zip(documents, sources, strict=True):
        suites = list(ET.fromstring(document))
        if not suites:
            continue
        first, rest = suites[0], suites[1:]
        for case in first.iter("testcase"):
            case.set("classname", source)
        if cases is None:
            cases = first
        else:
            cases.extend(first.findall("testcase"))
            _add_totals(cases, first)
        runs.extend(rest)
    for suite in [cases, *runs] if cases is not None else runs:
        root.append(suite)
        _add_totals(root, suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _add_totals(into: ET.Element, other: ET.Element) -> None:
    for total in _TOTALS:
        into.set(total, str(int(into.get(total, "0")) + int(other.get(total, "0"))))
    seconds = float(into.get("time", "0")) + float(other.get("time", "0"))
    into.set("time", f"{seconds:.3f}")
