"""``step-interact``: click, pointer gestures, typing and keys (mouse and select are in mouse_select)."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, mouse, step
from virtuoso_api.commands.vocabulary.spec import Arg, Flag, Group, Values
from virtuoso_api.commands.vocabulary.validate import (
    ELEMENT_POSITION,
    ELEMENT_TYPE,
    KEY,
    MODIFIER_KEYS,
    MODIFIERS,
    SELECTOR,
    TEXT,
    VARIABLE,
)
from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.steps import ElementPosition, ParsedStep, StepAction

INTERACT = Group("step", "step-interact", "Click, hover, type, press keys, use the mouse, pick options")

_SELECTOR = Arg("selector", SELECTOR, "the element")


def _either(values: Values, positional: str, flag: str) -> None:
    """Exactly one of a positional and a flag that replaces it; never silently drop one."""
    has_positional, has_flag = values.given(positional), values.given(flag)
    if has_positional and has_flag:
        raise InvalidInput(values.field(flag), f"give {positional.upper()} or --{flag}, not both")
    if not has_positional and not has_flag:
        raise InvalidInput(values.field(positional), f"missing {positional.upper()} (or give --{flag})")


@INTERACT.define(
    "click",
    args=(Arg("selector", SELECTOR, "the element (omit when --variable names it)", required=False),),
    flags=(
        Flag("variable", "click the element held in this variable instead of SELECTOR", VARIABLE),
        Flag("position", "where on the element to click (default CENTER)", ELEMENT_POSITION),
        Flag("element-type", "the kind of element, e.g. BUTTON", ELEMENT_TYPE),
    ),
    example=("click", "button.submit"),
)
def click(values: Values) -> ParsedStep:
    """Click an element.

    The clue carries ``position`` when --position is given (the original dropped it unless
    --element-type was also given) and, with --element-type, ``position`` defaults to CENTER as the
    original sent. SELECTOR and --variable exclude each other: the original silently dropped the
    selector when both were given.
    """
    _either(values, "selector", "variable")
    position = values.optional("position", ElementPosition)
    element_type = values.optional("element-type", str)
    if element_type is not None and position is None:
        position = ElementPosition.CENTER
    target = guess(
        values.optional("selector", str) or "",
        variable=values.optional("variable", str),
        position=position,
        element_type=element_type,
    )
    return step(StepAction.CLICK, target=target)


@INTERACT.define("double-click", args=(_SELECTOR,), example=("double-click", "Product image"))
def double_click(values: Values) -> ParsedStep:
    """Double-click an element."""
    return mouse("DOUBLE_CLICK", target=guess(values.text("selector")))


@INTERACT.define("right-click", args=(_SELECTOR,), example=("right-click", "#context-area"))
def right_click(values: Values) -> ParsedStep:
    """Right-click an element."""
    return mouse("RIGHT_CLICK", target=guess(values.text("selector")))


@INTERACT.define("hover", args=(_SELECTOR,), example=("hover", "Account menu"))
def hover(values: Values) -> ParsedStep:
    """Move the pointer over an element."""
    return mouse("OVER", target=guess(values.text("selector")))


@INTERACT.define(
    "write",
    args=(_SELECTOR, Arg("text", TEXT, "the text to type (omit when --variable gives it)", required=False)),
    flags=(Flag("variable", "type the value of this variable instead of TEXT", VARIABLE),),
    example=("write", "#email", "user@example.com"),
)
def write(values: Values) -> ParsedStep:
    """Type text into a field.

    With --variable the step carries the top-level ``variable`` and an empty ``value``; TEXT and
    --variable exclude each other (the original sent both, leaving it unclear which is typed).
    """
    _either(values, "text", "variable")
    return step(
        StepAction.WRITE,
        target=guess(values.text("selector")),
        value=values.optional("text", str) or "",
        variable=values.optional("variable", str),
    )


@INTERACT.define(
    "key",
    args=(Arg("key", KEY, "the key, e.g. Enter, Tab, a"),),
    flags=(
        Flag("target", "send the key to this element (default: the focused one)", SELECTOR),
        Flag("modifiers", "modifier keys held down, e.g. ctrl,shift", MODIFIERS),
        *(Flag(name, f"hold {name} (same as --modifiers {name})") for name in MODIFIER_KEYS),
    ),
    example=("key", "Enter"),
)
def key(values: Values) -> ParsedStep:
    """Press a key, optionally with modifiers and on a given element.

    ``meta.modifiers`` lists the modifiers (lower-case, in the order given, --modifiers first); it is
    absent when there are none.
    """
    held = list(values.optional("modifiers", tuple) or ())
    held += [name for name in MODIFIER_KEYS if values.switch(name)]
    selector = values.optional("target", str)
    return step(
        StepAction.KEY,
        target=guess(selector) if selector is not None else None,
        value=values.text("key"),
        meta={"modifiers": list(dict.fromkeys(held))} if held else {},
    )
