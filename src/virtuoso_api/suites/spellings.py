"""The names people give steps, and the one step each means.

A name is normalised first (``doubleClick``, ``double_click``, ``Double Click`` all become
``double-click``), then looked up here. Each spelling maps to a handler and, for the spellings that
say which assertion they make (``assert_text``, ``nch``, ``gt``), to that assertion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s_]+")


def normalise(word: str) -> str:
    """``doubleClick`` / ``double_click`` / ``Double Click`` -> ``double-click``."""
    return _SEPARATORS.sub("-", _CAMEL.sub("-", word.strip())).lower()


@dataclass(frozen=True, slots=True)
class Verb:
    """What a step name means: its handler and, for assertions, which assertion (None: from the step)."""

    handler: str
    assertion: str | None = None


def _table() -> dict[str, Verb]:
    spellings: dict[str, tuple[str, ...]] = {
        "navigate": ("navigate", "nav", "goto", "go-to", "open", "visit"),
        "scroll": ("scroll",),
        "click": ("click", "c", "tap"),
        "double-click": ("double-click", "dblclick", "dbl-click"),
        "right-click": ("right-click", "context-click"),
        "hover": ("hover", "h", "mouse-over", "mouseover"),
        "write": ("write", "type", "t", "fill"),
        "key": ("key", "press", "k"),
        "select": ("select", "pick"),
        "mouse": ("mouse",),
        "upload": ("upload", "file", "upload-file"),
        "assert": ("assert", "ch", "verify", "expect"),
        "wait": ("wait", "sleep", "pause"),
        "store": ("store", "save"),
        "cookie": ("cookie",),
        "window": ("window",),
        "switch-tab": ("switch-tab", "tab"),
        "switch-frame": ("switch-frame", "switch-iframe", "iframe", "frame"),
        "dialog": ("dialog", "alert"),
        "comment": ("comment", "note"),
        "execute": ("execute", "javascript", "js", "script"),
        "if": ("if",),
        "loop": ("loop", "for-each", "foreach"),
        "run": ("run", "include"),
    }
    table = {spelling: Verb(handler) for handler, names in spellings.items() for spelling in names}
    assertions: dict[str, tuple[str, ...]] = {
        "exists": ("assert-exists", "exists"),
        "not-exists": ("nch", "assert-not-exists", "not-exists"),
        "equals": ("assert-text", "assert-equals", "eq"),
        "not-equals": ("assert-not-equals", "assert-not-text", "neq"),
        "checked": ("assert-checked",),
        "selected": ("assert-selected",),
        "gt": ("gt", "assert-greater-than", "assert-gt"),
        "gte": ("gte", "assert-greater-than-or-equal", "assert-gte"),
        "lt": ("lt", "assert-less-than", "assert-lt"),
        "lte": ("lte", "assert-less-than-or-equal", "assert-lte"),
        "matches": ("assert-matches", "matches"),
        "variable": ("assert-variable",),
    }
    table |= {spelling: Verb("assert", kind) for kind, names in assertions.items() for spelling in names}
    return table


VERBS = _table()


def verb(word: str) -> Verb | None:
    return VERBS.get(normalise(word))
