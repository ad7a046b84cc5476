"""Test suites: YAML or JSON files of steps, in the three dialects people write (simplified,
extended, compact), parsed into one model whose every step is a command of the vocabulary.

``parse_suite(text, source="checkout.yaml", variables={"env": "staging"})`` gives a :class:`Suite`
(name, starting URL, infrastructure, config, variables, sections of steps, warnings) or raises
:class:`SuiteInvalid` listing every problem with its line. Nothing here talks to Virtuoso.
"""

from __future__ import annotations

from virtuoso_api.suites.document import MAX_ALIASES, MAX_DEPTH, MAX_SOURCE_BYTES, MAX_VALUES, Syntax
from virtuoso_api.suites.model import Dialect, Infrastructure, Ref, Section, Suite, SuiteConfig, SuiteStep
from virtuoso_api.suites.parser import parse_assignments, parse_suite
from virtuoso_api.suites.problems import Problem, SuiteInvalid
from virtuoso_api.suites.steps import MAX_STEPS

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_SOURCE_BYTES",
    "MAX_STEPS",
    "MAX_VALUES",
    "Dialect",
    "Infrastructure",
    "Problem",
    "Ref",
    "Section",
    "Suite",
    "SuiteConfig",
    "SuiteInvalid",
    "SuiteStep",
    "Syntax",
    "parse_assignments",
    "parse_suite",
]
