"""``step-navigate``: open a URL and scroll."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, step
from virtuoso_api.commands.vocabulary.spec import Arg, Flag, Group, Values
from virtuoso_api.commands.vocabulary.validate import POINT, SELECTOR, URL, Point, integer
from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, Target

NAVIGATE = Group("step", "step-navigate", "Open a URL or scroll the page")

# What scroll-up / scroll-down move by, as the original sent.
PAGE_SCROLL_PX = 1000

_COORDINATE = integer(name="px")
_XY = Arg("xy", POINT, "x,y pixels (or give --x/--y)", required=False)
_XY_FLAGS = (
    Flag("x", "horizontal pixels (with --y, instead of X,Y; default 0)", _COORDINATE),
    Flag("y", "vertical pixels (with --x, instead of X,Y; default 0)", _COORDINATE),
)


def _scroll(kind: str, *, target: Target | None = None, point: Point | None = None) -> ParsedStep:
    meta: dict[str, object] = {"type": kind}
    if point is not None:
        meta |= {"x": point.x, "y": point.y}
    return step(StepAction.SCROLL, target=target, meta=meta)


def _point(values: Values) -> Point:
    """``X,Y`` or ``--x``/``--y`` (a missing one is 0), never both forms."""
    flags_given = values.given("x") or values.given("y")
    if values.given("xy"):
        if flags_given:
            field = values.field("x" if values.given("x") else "y")
            raise InvalidInput(field, "give X,Y or --x/--y, not both")
        return values.get("xy", Point)
    if not flags_given:
        raise InvalidInput(values.field("xy"), "missing X,Y (or give --x and/or --y)")
    return Point(values.optional("x", int) or 0, values.optional("y", int) or 0)


@NAVIGATE.define(
    "to",
    aliases=("url", "goto"),
    args=(Arg("url", URL, "the page to open (http or https)"),),
    flags=(Flag("new-tab", "open the URL in a new tab"),),
    example=("to", "https://example.com"),
)
def navigate_to(values: Values) -> ParsedStep:
    """Open a URL (``meta.useNewTab`` is always present)."""
    return step(StepAction.NAVIGATE, value=values.text("url"), meta={"useNewTab": values.switch("new-tab")})


@NAVIGATE.define("scroll-top", aliases=("top",), example=("scroll-top",))
def scroll_top(values: Values) -> ParsedStep:
    """Scroll to the top of the page."""
    del values
    return _scroll("TOP")


@NAVIGATE.define("scroll-bottom", aliases=("bottom",), example=("scroll-bottom",))
def scroll_bottom(values: Values) -> ParsedStep:
    """Scroll to the bottom of the page."""
    del values
    return _scroll("BOTTOM")


@NAVIGATE.define(
    "scroll-element",
    aliases=("element", "to-element"),
    args=(Arg("selector", SELECTOR, "the element to bring into view"),),
    example=("scroll-element", "Footer"),
)
def scroll_element(values: Values) -> ParsedStep:
    """Scroll an element into view.

    The target uses ``kind: AI`` element finding, as the original's only payload for this command did.
    """
    return _scroll("ELEMENT", target=guess(values.text("selector"), ai=True))


@NAVIGATE.define(
    "scroll-position",
    aliases=("position", "to-position", "xy"),
    args=(_XY,),
    flags=_XY_FLAGS,
    example=("scroll-position", "0,500"),
)
def scroll_position(values: Values) -> ParsedStep:
    """Scroll to an absolute position in the page."""
    return _scroll("POSITION", point=_point(values))


@NAVIGATE.define(
    "scroll-by",
    aliases=("by", "offset"),
    args=(_XY,),
    flags=_XY_FLAGS,
    example=("scroll-by", "0,-200"),
)
def scroll_by(values: Values) -> ParsedStep:
    """Scroll by an offset from the current position (negatives scroll up or left)."""
    return _scroll("OFFSET", point=_point(values))


@NAVIGATE.define("scroll-up", aliases=("up",), example=("scroll-up",))
def scroll_up(values: Values) -> ParsedStep:
    """Scroll up by 1000 pixels (an OFFSET scroll with y = -1000)."""
    del values
    return _scroll("OFFSET", point=Point(0, -PAGE_SCROLL_PX))


@NAVIGATE.define("scroll-down", aliases=("down",), example=("scroll-down",))
def scroll_down(values: Values) -> ParsedStep:
    """Scroll down by 1000 pixels (an OFFSET scroll with y = 1000)."""
    del values
    return _scroll("OFFSET", point=Point(0, PAGE_SCROLL_PX))
