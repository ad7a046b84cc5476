"""Steps that check and remember: assert (every assertion), wait (for an element or a time), store."""

from __future__ import annotations

import re
from typing import Final

from virtuoso_api.suites.fields import HINT_KEYS, Args, Fields
from virtuoso_api.suites.tree import Scalar

#: Assertion names as people write them (``type``/``assertion``/``command`` of an assert step).
_KINDS: Final = {
    **dict.fromkeys(("exists", "exist", "present", "visible", "see"), "exists"),
    **dict.fromkeys(
        ("not-exists", "not-exist", "absent", "not-present", "not-visible", "hidden"), "not-exists"
    ),
    **dict.fromkeys(("equals", "equal", "eq", "value", "text-equals", "has-text"), "equals"),
    **dict.fromkeys(("not-equals", "not-equal", "neq", "ne"), "not-equals"),
    "checked": "checked",
    "selected": "selected",
    **dict.fromkeys(("gt", "greater-than"), "gt"),
    **dict.fromkeys(("gte", "greater-equal", "greater-than-or-equal", "ge"), "gte"),
    **dict.fromkeys(("lt", "less-than"), "lt"),
    **dict.fromkeys(("lte", "less-equal", "less-than-or-equal", "le"), "lte"),
    **dict.fromkeys(("matches", "match", "regex", "pattern"), "matches"),
    "variable": "variable",
}
_WITH_VALUE: Final = frozenset({"equals", "not-equals", "gt", "gte", "lt", "lte", "matches"})
#: Shortcut keys that name the assertion and carry its value: {selector: X, equals: V}.
_VALUE_KEYS: Final = {
    "equals": "equals",
    "not_equals": "not-equals",
    "not-equals": "not-equals",
    "pattern": "matches",
    "matches": "matches",
    "greater_than": "gt",
    "less_than": "lt",
}
_EXPECTED_KEYS: Final = ("value", "expected", "expect")
#: HTML tag names: ``ch: Shopping Bag in h1`` limits a check to a kind of element, which no assertion can.
_IN_TAG = re.compile(
    r"^(?P<text>.+?)\s+in\s+(?P<tag>h[1-6]|p|a|div|span|button|li|td|th|label|section|header|footer|nav|"
    r"main|title|strong|em|b|i|small|form|table|ul|ol)\s*$"
)


def _kind(fields: Fields, preset: str | None) -> tuple[str, Scalar | None]:
    """The assertion and, for the shortcut keys, its value."""
    named = fields.field("type", "assertion", "command", "check")
    kind = preset
    if named is not None:
        spelled = named.text.strip().lower().replace("_", "-").replace(" ", "-")
        if spelled == "text":  # assertion: text -- the text is there, or equals the expected value
            spelled = "equals" if fields.given(*_EXPECTED_KEYS) else "exists"
        if spelled not in _KINDS:
            raise fields.problem(
                f"unknown assertion {named.text!r:.40}; use one of {', '.join(sorted(set(_KINDS.values())))}",
                named,
            )
        kind = _KINDS[spelled]
    for key, implied in _VALUE_KEYS.items():
        value = fields.field(key)
        if value is not None:
            if kind is not None and kind != implied and not (kind == "equals" and implied == "equals"):
                raise fields.problem(f"{key} makes this a {implied} assertion, not {kind}", value)
            return implied, value
    exists = fields.field("exists")
    if exists is not None:
        implied = "exists" if exists.boolean() else "not-exists"
        if kind not in (None, "exists", implied):
            raise fields.problem(f"exists: {exists.text} contradicts the {kind} assertion", exists)
        kind = implied if kind in (None, "exists") else kind
    return kind or "exists", None


def assertion(fields: Fields, preset: str | None) -> Args:
    kind, value = _kind(fields, preset)
    if fields.given("element_type", "elementType", "tag"):
        where = fields.field("element_type", "elementType", "tag")
        raise fields.problem(
            f"limits the check to <{where.text if where else ''}> elements, which no assertion can express; "
            "leave it out to check the element anywhere on the page",
            where,
        )
    pair = (
        fields.pair((*HINT_KEYS, *_EXPECTED_KEYS, "variable", "name", *_VALUE_KEYS))
        if kind in _WITH_VALUE
        else None
    )
    if kind == "variable":
        return _assert_variable(fields)
    element = pair[0] if pair else fields.hint(HINT_KEYS if kind in _WITH_VALUE else (*HINT_KEYS, "value"))
    if element is None:
        raise fields.problem(f"needs the element to check (the value, or one of {', '.join(HINT_KEYS)})")
    in_tag = _IN_TAG.match(element.text)
    if in_tag is not None:
        raise fields.problem(
            f"{element.text!r:.60} limits the check to <{in_tag.group('tag')}> elements, which no "
            f"assertion can express; write {in_tag.group('text')!r:.60} to check it anywhere on the page",
            element,
        )
    args = fields.args("step-assert", kind).add(fields.context.text(element), element)
    if kind not in _WITH_VALUE:
        return args
    if value is None:
        value = pair[1] if pair else fields.field(*_EXPECTED_KEYS)
    if value is None:
        raise fields.problem(
            f"a {kind} assertion needs the value to compare with ({', '.join(_EXPECTED_KEYS)})"
        )
    return args.add(fields.context.text(value), value)


def _assert_variable(fields: Fields) -> Args:
    name = fields.required("the variable", "variable", "name")
    value = fields.field(*_EXPECTED_KEYS, "equals")
    if value is None:
        raise fields.problem("a variable assertion needs the value (value or expected)")
    return fields.args("step-assert", "variable").add(name.text, name).add(fields.context.text(value), value)


# -- wait ------------------------------------------------------------------------------------------

_DURATION = re.compile(
    r"\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>ms|milliseconds?|s|secs?|seconds?)?\s*", re.IGNORECASE
)
#: A bare number up to this is seconds (the D365 authors' ``wait: 2``); above it, milliseconds.
SECONDS_UP_TO: Final = 60


def _milliseconds(fields: Fields, node: Scalar, unit: str | None) -> str | None:
    """The wait in ms, or None when ``node`` is not a duration (then it is an element)."""
    match = _DURATION.fullmatch(node.text)
    if match is None:
        return None
    if len(match.group("amount")) > 12:  # far past any wait: the vocabulary refuses it by its range
        return match.group("amount")
    amount = float(match.group("amount"))
    written = (match.group("unit") or unit or "").lower()
    if written.startswith("s"):
        return str(round(amount * 1000))
    if written.startswith("m"):
        return str(round(amount))
    if amount <= SECONDS_UP_TO:
        ms = round(amount * 1000)
        fields.warn(
            f"{node.text.strip()} is read as {match.group('amount')} seconds ({ms} ms): a bare number up to "
            f"{SECONDS_UP_TO} is seconds, a larger one milliseconds; write {match.group('amount')}s, or "
            f"{match.group('amount')}ms for milliseconds",
            node,
        )
        return str(ms)
    return str(round(amount))


def wait(fields: Fields) -> Args:
    main = fields.main()
    if main is not None:
        ms = _milliseconds(fields, main, None)
        if ms is not None:
            return fields.args("step-wait", "time").add(ms, main)
        return fields.args("step-wait", "element").add(fields.context.text(main), main)
    for keys, unit in (
        (("time", "ms", "milliseconds"), "ms"),
        (("seconds", "secs", "s"), "s"),
        (("value",), None),
    ):
        node = fields.field(*keys)
        if node is not None:
            ms = _milliseconds(fields, node, unit)
            if ms is None:
                raise fields.problem(f"{node.text!r:.40} is not a duration such as 500, 2s or 1500ms", node)
            return fields.args("step-wait", "time").add(ms, node)
    element = fields.hint(("element", "for", "selector", "until", "target", "hint", "text"), main=False)
    if element is None:
        raise fields.problem("needs a time (2s, 500ms, {ms: 500}) or an element ({element: ...})")
    args = fields.args("step-wait", "element").add(fields.context.text(element), element)
    timeout = fields.field("timeout", "timeout_ms", "timeoutMs")
    if timeout is not None:
        ms = _milliseconds(fields, timeout, "ms")
        args.flag("timeout", timeout, ms if ms is not None else timeout.text)
    return args


# -- store -----------------------------------------------------------------------------------------

_STORE_TYPES: Final = {
    "element-text": "element-text",
    "text": "element-text",
    "element-value": "element-value",
    "value": "element-value",
    "attribute": "attribute",
    "literal": "literal",
}


def store(fields: Fields) -> Args:
    into = fields.required("the variable to store into", "as", "variable", "in", "into", "name")
    fields.context.variables.store(into.text.strip().removeprefix("$"))
    kind_node = fields.field("type")
    kind = _STORE_TYPES.get((kind_node.text if kind_node else "text").strip().lower().replace("_", "-"))
    if kind is None:
        raise fields.problem(f"type is one of {', '.join(_STORE_TYPES)}", kind_node)
    if kind == "literal":
        value = fields.required("the value to store", "value")
        return (
            fields.args("step-data", "store", "literal")
            .add(fields.context.text(value), value)
            .add(into.text, into)
        )
    element = fields.hint(("selector", "element", "from", "target", "hint"), main=False)
    if element is None:
        raise fields.problem("needs the element to read (selector, element or from)")
    args = fields.args("step-data", "store", kind).add(fields.context.text(element), element)
    if kind == "attribute":
        attribute = fields.required("the attribute", "attribute", "attr")
        args.add(attribute.text, attribute)
    return args.add(into.text, into)
