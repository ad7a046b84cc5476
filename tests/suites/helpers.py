"""Small readers over ``parse_suite`` for the rule tests."""

from __future__ import annotations

import textwrap

import pytest

from virtuoso_api.suites import Suite, SuiteInvalid, parse_suite


def suite(text: str, **variables: str) -> Suite:
    return parse_suite(textwrap.dedent(text), source="t.yaml", variables=variables)


def steps(text: str, **variables: str) -> list[tuple[int, str, list[str]]]:
    return [(step.line, step.command, list(step.args)) for step in suite(text, **variables).steps]


def problems(text: str, **variables: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SuiteInvalid) as refused:
        suite(text, **variables)
    return [(problem.line, problem.field, problem.message) for problem in refused.value.problems]


def warnings(text: str, **variables: str) -> list[tuple[int | None, str, str]]:
    return [(warning.line, warning.field, warning.message) for warning in suite(text, **variables).warnings]
