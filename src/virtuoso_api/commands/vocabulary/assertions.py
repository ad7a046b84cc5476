"""``step-assert``: check what the page (or a variable) holds.

Every element assertion targets the element with a GUESS clue and carries in ``value`` only the
operand (the expected text, number or pattern), empty when there is none. The original put English
sentences in ``value`` for four of them (exists, not-exists, equals, checked) and not for the rest;
the sentence only repeated the target, so the structured form is used throughout.
"""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, step
from virtuoso_api.commands.vocabulary.spec import Arg, Group, Values
from virtuoso_api.commands.vocabulary.validate import NON_EMPTY_TEXT, REGEX, SELECTOR, TEXT, VARIABLE
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction

ASSERT = Group("step", "step-assert", "Check what the page or a variable holds")

_ELEMENT = Arg("element", SELECTOR, "the element to check")
_EXPECTED = Arg("value", TEXT, "the expected text (may be empty)")
_NUMBER = Arg("value", NON_EMPTY_TEXT, "the value to compare with (a number or $variable)")


def _assertion(action: StepAction, values: Values, value: str = "") -> ParsedStep:
    return step(action, target=guess(values.text("element")), value=value)


@ASSERT.define("exists", args=(_ELEMENT,), example=("exists", "Success message"))
def exists(values: Values) -> ParsedStep:
    """Assert that an element is on the page.

    ``value`` is empty: the original sent the sentence ``see "<element>"`` there.
    """
    return _assertion(StepAction.ASSERT_EXISTS, values)


@ASSERT.define("not-exists", args=(_ELEMENT,), example=("not-exists", "Error banner"))
def not_exists(values: Values) -> ParsedStep:
    """Assert that an element is not on the page.

    ``value`` is empty: the original sent the sentence ``do not see "<element>"`` there.
    """
    return _assertion(StepAction.ASSERT_NOT_EXISTS, values)


@ASSERT.define("equals", args=(_ELEMENT, _EXPECTED), example=("equals", "h1", "Welcome back"))
def equals(values: Values) -> ParsedStep:
    """Assert that an element's text equals VALUE.

    ``value`` is the raw expected text; the original sent ``expect <element> to have text "<value>"``,
    which disagreed with its own not-equals (raw value) and made Virtuoso compare against a sentence.
    """
    return _assertion(StepAction.ASSERT_EQUALS, values, values.text("value"))


@ASSERT.define("not-equals", args=(_ELEMENT, _EXPECTED), example=("not-equals", "#status", "Failed"))
def not_equals(values: Values) -> ParsedStep:
    """Assert that an element's text differs from VALUE."""
    return _assertion(StepAction.ASSERT_NOT_EQUALS, values, values.text("value"))


@ASSERT.define("checked", args=(_ELEMENT,), example=("checked", "Remember me"))
def checked(values: Values) -> ParsedStep:
    """Assert that a checkbox or radio button is checked.

    ``value`` is empty (as for selected): the original sent ``see <element> is checked`` there.
    """
    return _assertion(StepAction.ASSERT_CHECKED, values)


@ASSERT.define("selected", args=(_ELEMENT,), example=("selected", "#country option[value=fr]"))
def selected(values: Values) -> ParsedStep:
    """Assert that an option is selected."""
    return _assertion(StepAction.ASSERT_SELECTED, values)


@ASSERT.define("gt", args=(_ELEMENT, _NUMBER), example=("gt", "#cart-count", "0"))
def greater_than(values: Values) -> ParsedStep:
    """Assert that an element's value is greater than VALUE."""
    return _assertion(StepAction.ASSERT_GREATER_THAN, values, values.text("value"))


@ASSERT.define("gte", args=(_ELEMENT, _NUMBER), example=("gte", "#items", "1"))
def greater_than_or_equal(values: Values) -> ParsedStep:
    """Assert that an element's value is greater than or equal to VALUE."""
    return _assertion(StepAction.ASSERT_GREATER_THAN_OR_EQUAL, values, values.text("value"))


@ASSERT.define("lt", args=(_ELEMENT, _NUMBER), example=("lt", "#total", "100"))
def less_than(values: Values) -> ParsedStep:
    """Assert that an element's value is less than VALUE."""
    return _assertion(StepAction.ASSERT_LESS_THAN, values, values.text("value"))


@ASSERT.define("lte", args=(_ELEMENT, _NUMBER), example=("lte", "#errors", "0"))
def less_than_or_equal(values: Values) -> ParsedStep:
    """Assert that an element's value is less than or equal to VALUE."""
    return _assertion(StepAction.ASSERT_LESS_THAN_OR_EQUAL, values, values.text("value"))


@ASSERT.define(
    "matches",
    args=(_ELEMENT, Arg("pattern", REGEX, "regular expression the text must match")),
    example=("matches", "#order-id", r"^ORD-\d+$"),
)
def matches(values: Values) -> ParsedStep:
    """Assert that an element's text matches a regular expression.

    The pattern is checked with Python's ``re`` before sending; Virtuoso evaluates it in the browser,
    so the rare constructs only one dialect knows may still differ.
    """
    return _assertion(StepAction.ASSERT_MATCHES, values, values.text("pattern"))


@ASSERT.define(
    "variable",
    args=(Arg("name", VARIABLE, "the variable ($ optional)"), _EXPECTED),
    example=("variable", "$orderId", "12345"),
)
def variable(values: Values) -> ParsedStep:
    """Assert that a stored variable equals VALUE."""
    return step(
        StepAction.ASSERT_VARIABLE,
        value=values.text("value"),
        variable=values.text("name"),
        meta={"kind": "ASSERT_VARIABLE", "type": "EQUALS"},
    )
