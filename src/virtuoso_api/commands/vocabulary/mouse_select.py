"""``step-interact mouse ...`` and ``step-interact select ...``: low-level pointer moves and drop-downs."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, mouse, step
from virtuoso_api.commands.vocabulary.spec import Arg, Group, Values
from virtuoso_api.commands.vocabulary.validate import POINT, SELECTOR, TEXT, Point, integer
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction

# Same top-level command as interact.py; the registry merges the two groups.
MOUSE_SELECT = Group("step", "step-interact")

_SELECTOR = Arg("selector", SELECTOR, "the element")
_DROPDOWN = Arg("selector", SELECTOR, "the drop-down (select) element")


@MOUSE_SELECT.define("mouse", "move-to", args=(_SELECTOR,), example=("mouse", "move-to", "Drop zone"))
def mouse_move_to(values: Values) -> ParsedStep:
    """Move the pointer to an element."""
    return mouse("MOVE", target=guess(values.text("selector")))


@MOUSE_SELECT.define(
    "mouse",
    "move-by",
    args=(Arg("offset", POINT, "how far to move, x,y pixels (negatives allowed)"),),
    example=("mouse", "move-by", "-100,0"),
)
def mouse_move_by(values: Values) -> ParsedStep:
    """Move the pointer by an offset from where it is."""
    return mouse("OFFSET", point=values.get("offset", Point))


@MOUSE_SELECT.define(
    "mouse",
    "move",
    args=(Arg("position", POINT, "where to move, x,y pixels in the page"),),
    example=("mouse", "move", "200,300"),
)
def mouse_move(values: Values) -> ParsedStep:
    """Move the pointer to a position in the page."""
    return mouse("MOVE", point=values.get("position", Point))


@MOUSE_SELECT.define("mouse", "down", example=("mouse", "down"))
def mouse_down(values: Values) -> ParsedStep:
    """Press the mouse button where the pointer is.

    As in the original the target is a GUESS clue with an empty hint (there is no element argument).
    """
    del values
    return mouse("DOWN", target=guess(""))


@MOUSE_SELECT.define(
    "mouse",
    "up",
    args=(Arg("selector", SELECTOR, "release over this element (default: where the pointer is)", False),),
    example=("mouse", "up", "Drop zone"),
)
def mouse_up(values: Values) -> ParsedStep:
    """Release the mouse button, optionally over an element (empty clue when none is given)."""
    return mouse("UP", target=guess(values.optional("selector", str) or ""))


@MOUSE_SELECT.define("mouse", "enter", args=(_SELECTOR,), example=("mouse", "enter", "Menu"))
def mouse_enter(values: Values) -> ParsedStep:
    """Move the pointer into an element (fires mouseenter)."""
    return mouse("ENTER", target=guess(values.text("selector")))


def _pick(values: Values, value: str, *, by_index: bool) -> ParsedStep:
    return step(
        StepAction.PICK,
        target=guess(values.text("selector")),
        value=value,
        meta={"type": "INDEX"} if by_index else {},
    )


@MOUSE_SELECT.define(
    "select",
    "option",
    args=(_DROPDOWN, Arg("value", TEXT, "the option to pick")),
    example=("select", "option", "#country", "France"),
)
def select_option(values: Values) -> ParsedStep:
    """Pick a drop-down option by its value or text."""
    return _pick(values, values.text("value"), by_index=False)


@MOUSE_SELECT.define(
    "select",
    "index",
    args=(_DROPDOWN, Arg("index", integer(0, name="n"), "0-based option index")),
    example=("select", "index", "#country", "2"),
)
def select_index(values: Values) -> ParsedStep:
    """Pick a drop-down option by its 0-based index."""
    return _pick(values, str(values.number("index")), by_index=True)


@MOUSE_SELECT.define("select", "last", args=(_DROPDOWN,), example=("select", "last", "#country"))
def select_last(values: Values) -> ParsedStep:
    """Pick a drop-down's last option (index -1)."""
    return _pick(values, "-1", by_index=True)
