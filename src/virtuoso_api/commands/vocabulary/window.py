"""``step-window``: window size, tabs and frames."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, step
from virtuoso_api.commands.vocabulary.spec import Arg, Group, Values
from virtuoso_api.commands.vocabulary.validate import SELECTOR, SIZE, Size, integer
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, Target

WINDOW = Group("step", "step-window", "Resize the window, switch tabs and frames")


def _window(kind: str, *, size: Size | None = None) -> ParsedStep:
    meta: dict[str, object] = {"type": kind}
    if size is not None:
        meta["dimension"] = {"width": size.width, "height": size.height}
    return step(StepAction.WINDOW, meta=meta)


def _switch(kind: str, *, target: Target | None = None, value: str = "") -> ParsedStep:
    # Every SWITCH carries meta.kind; the original left it out for parent-frame only.
    return step(StepAction.SWITCH, target=target, value=value, meta={"kind": "SWITCH", "type": kind})


@WINDOW.define(
    "resize",
    args=(Arg("size", SIZE, "the new size, WIDTHxHEIGHT"),),
    example=("resize", "1280x800"),
)
def resize(values: Values) -> ParsedStep:
    """Resize the browser window."""
    return _window("RESIZE", size=values.get("size", Size))


@WINDOW.define("maximize", example=("maximize",))
def maximize(values: Values) -> ParsedStep:
    """Maximize the browser window."""
    del values
    return _window("MAXIMIZE")


@WINDOW.define("switch", "tab", "next", example=("switch", "tab", "next"))
def switch_tab_next(values: Values) -> ParsedStep:
    """Switch to the next browser tab."""
    del values
    return _switch("NEXT_TAB")


@WINDOW.define("switch", "tab", "prev", aliases=("previous",), example=("switch", "tab", "prev"))
def switch_tab_prev(values: Values) -> ParsedStep:
    """Switch to the previous browser tab."""
    del values
    return _switch("PREV_TAB")


@WINDOW.define(
    "switch",
    "tab",
    "index",
    args=(Arg("index", integer(0, name="n"), "0-based tab index (0 is the first tab)"),),
    example=("switch", "tab", "index", "1"),
)
def switch_tab_index(values: Values) -> ParsedStep:
    """Switch to a browser tab by its 0-based index.

    The index is 0-based, as the original documented it; it is never taken as a checkpoint id.
    """
    return _switch("TAB", value=str(values.number("index")))


@WINDOW.define(
    "switch",
    "iframe",
    args=(Arg("selector", SELECTOR, "the iframe element"),),
    example=("switch", "iframe", "#payment-frame"),
)
def switch_iframe(values: Values) -> ParsedStep:
    """Switch into an iframe."""
    return _switch("FRAME_BY_ELEMENT", target=guess(values.text("selector")))


@WINDOW.define("switch", "parent-frame", example=("switch", "parent-frame"))
def switch_parent_frame(values: Values) -> ParsedStep:
    """Switch from an iframe back to its parent frame.

    ``meta.kind`` is SWITCH like every other switch step; the original omitted it here only.
    """
    del values
    return _switch("PARENT_FRAME")
