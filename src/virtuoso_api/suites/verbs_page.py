"""Steps that act on the page: navigate, scroll, click and other pointer gestures, write, key, select,
mouse, upload. Each reads its :class:`Fields` and builds the vocabulary command it means."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from virtuoso_api.suites.fields import HINT_KEYS, Args, Fields
from virtuoso_api.suites.tree import Scalar, Sequence, scalar

#: Where the text goes in a write, by the spellings people use (``in`` from compact files).
FIELD_KEYS: Final = (
    "in",
    "into",
    "selector",
    "element",
    "target",
    "field",
    "hint",
    "label",
    "placeholder",
    "css",
    "xpath",
)
_TEXT_KEYS: Final = ("text", "value", "content", "with")
#: ``TEXT in "FIELD"`` (compact ``t:``): the field is quoted, so "Sign in now" is never split.
_TEXT_IN_FIELD = re.compile(r"^(?P<text>.*?)\s+in\s+(?P<quote>[\"'])(?P<field>.+)(?P=quote)\s*$", re.DOTALL)
_PAGE_SCROLLS: Final = {
    "top": "scroll-top",
    "bottom": "scroll-bottom",
    "up": "scroll-up",
    "down": "scroll-down",
}


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


#: An element-only step's hint may also be spelled ``value`` (``{action: click, value: Login}``).
ELEMENT_KEYS: Final = (*HINT_KEYS, "value")


def _element(fields: Fields, what: str = "an element") -> Scalar:
    hint = fields.hint(ELEMENT_KEYS)
    if hint is None:
        raise fields.problem(f"needs {what} (the value, or one of {', '.join(HINT_KEYS)})")
    return hint


def navigate(fields: Fields) -> Args:
    url = fields.main() or fields.required("a URL", "url", "to", "value", "href")
    args = fields.args("step-navigate", "to").add(fields.context.url(url), url)
    new_tab = fields.field("new_tab", "newTab", "new-tab")
    if new_tab is not None and new_tab.boolean():
        args.flag("new-tab", new_tab)
    return args


def scroll(fields: Fields) -> Args:
    main = fields.main()
    if main is not None:
        page = _PAGE_SCROLLS.get(main.text.strip().lower())
        if page is not None:
            return fields.args("step-navigate", page)
        return fields.args("step-navigate", "scroll-element").add(fields.context.text(main), main)
    to = fields.field("to")
    if to is not None:
        page = _PAGE_SCROLLS.get(to.text.strip().lower())
        if page in ("scroll-top", "scroll-bottom"):
            return fields.args("step-navigate", page)
        return fields.args("step-navigate", "scroll-element").add(fields.context.text(to), to)
    element = fields.field("element", "selector")
    if element is not None:
        return fields.args("step-navigate", "scroll-element").add(fields.context.text(element), element)
    for key, command in (("position", "scroll-position"), ("by", "scroll-by"), ("offset", "scroll-by")):
        point = fields.field(key)
        if point is not None:
            return fields.args("step-navigate", command).add(fields.context.text(point), point)
    direction = fields.field("direction")
    if direction is not None:
        page = _PAGE_SCROLLS.get(direction.text.strip().lower())
        if page is None:
            raise fields.problem("direction is up, down, top or bottom", direction)
        return fields.args("step-navigate", page)
    for word in ("up", "down", "top", "bottom"):
        switch = fields.field(word)
        if switch is not None and switch.boolean():
            return fields.args("step-navigate", _PAGE_SCROLLS[word])
    raise fields.problem("needs where to: top, bottom, up, down, an element, {position: x,y} or {by: x,y}")


def click(fields: Fields) -> Args:
    hint = fields.hint(ELEMENT_KEYS)
    variable = fields.field("variable")
    args = fields.args("step-interact", "click")
    if hint is not None:
        args.add(fields.context.text(hint), hint)
    elif variable is None:
        raise fields.problem(f"needs an element (the value, or one of {', '.join(HINT_KEYS)})")
    if variable is not None:
        args.flag("variable", variable, variable.text)
    position = fields.field("position")
    if position is not None:
        args.flag("position", position, position.text)
    element_type = fields.field("element_type", "elementType")
    if element_type is not None:
        args.flag("element-type", element_type, element_type.text)
    return args


def _gesture(subcommand: str) -> Callable[[Fields], Args]:
    def handler(fields: Fields) -> Args:
        hint = _element(fields)
        return fields.args("step-interact", subcommand).add(fields.context.text(hint), hint)

    return handler


double_click = _gesture("double-click")
right_click = _gesture("right-click")
hover = _gesture("hover")


def _text_and_field(fields: Fields) -> tuple[Scalar, Scalar]:
    """(text, field) of a write, from any of its forms; the field is required."""
    pair = fields.pair((*FIELD_KEYS, *_TEXT_KEYS, "variable"))
    if pair is not None:  # t: {Email: a@b.c}
        return pair[1], pair[0]
    main = fields.main()
    target = fields.hint(FIELD_KEYS, main=False)
    text = main if main is not None else fields.field(*_TEXT_KEYS)
    if target is None and text is not None and main is not None:
        split = _TEXT_IN_FIELD.match(main.text)
        if split is not None:  # t: $name in "Full name"
            return (
                Scalar(main.line, main.path, _unquote(split.group("text")), "str"),
                Scalar(main.line, main.path, split.group("field"), "str"),
            )
    if target is None:
        raise fields.problem(
            f'needs the field to write into ({", ".join(FIELD_KEYS[:3])}, ...; or TEXT in "FIELD")'
        )
    if text is None:
        raise fields.problem(f"needs the text to write ({', '.join(_TEXT_KEYS)})")
    return text, target


def write(fields: Fields) -> Args:
    variable = fields.field("variable")
    if variable is not None:  # write: {selector: Email, variable: email}
        target = fields.hint(FIELD_KEYS) or fields.required("the field", *FIELD_KEYS)
        args = fields.args("step-interact", "write").add(fields.context.text(target), target)
        return args.flag("variable", variable, variable.text)
    text, target = _text_and_field(fields)
    args = fields.args("step-interact", "write").add(fields.context.text(target), target)
    runtime = fields.context.variables.runtime_variable(text)
    if runtime is not None:  # the whole text is a variable Virtuoso holds: send it as the step's variable
        return args.flag("variable", text, runtime)
    return args.add(fields.context.text(text), text)


def key(fields: Fields) -> Args:
    name = fields.main() or fields.required("a key", "key", "value")
    args = fields.args("step-interact", "key").add(fields.context.text(name), name)
    target = fields.field("target", "selector", "element")
    if target is not None:
        args.flag("target", target, fields.context.text(target))
    modifiers = fields.node("modifiers")
    if isinstance(modifiers, Sequence):  # modifiers: [ctrl, shift]
        names = [scalar(item, item.path).text for item in modifiers]
        args.flag("modifiers", Scalar(modifiers.line, modifiers.path, "", "str"), ",".join(names))
    elif modifiers is not None:  # modifiers: ctrl,shift
        args.flag("modifiers", scalar(modifiers, "modifiers"), scalar(modifiers, "modifiers").text)
    return args


def select(fields: Fields) -> Args:
    dropdown = fields.hint(
        ("selector", "element", "from", "dropdown", "target", "hint", "label", "css"), main=False
    )
    if dropdown is None:
        raise fields.problem("needs the drop-down (selector, element or from)")
    index = fields.field("index")
    last = fields.field("last")
    option = fields.field("option", "value", "text")
    chosen = [
        name for name, given in (("option", option), ("index", index), ("last", last)) if given is not None
    ]
    if len(chosen) != 1:
        raise fields.problem("needs exactly one of option (or value, text), index or last: true")
    args = fields.args("step-interact", "select")
    if option is not None:
        return (
            args.add("option", option)
            .add(fields.context.text(dropdown), dropdown)
            .add(fields.context.text(option), option)
        )
    if index is not None:
        return args.add("index", index).add(fields.context.text(dropdown), dropdown).add(index.text, index)
    assert last is not None
    if not last.boolean():
        raise fields.problem("last: false picks nothing; give option or index", last)
    return args.add("last", last).add(fields.context.text(dropdown), dropdown)


_MOUSE_ACTIONS: Final = {
    "move-to": "move-to",
    "moveto": "move-to",
    "move-by": "move-by",
    "moveby": "move-by",
    "move": "move",
    "down": "down",
    "up": "up",
    "enter": "enter",
}


def mouse(fields: Fields) -> Args:
    action = fields.choice(_MOUSE_ACTIONS)
    args = fields.args("step-interact", "mouse", action)
    if action in ("move-to", "enter"):
        target = fields.hint(("selector", "element", "to", "target"), main=False)
        if target is None:
            raise fields.problem(f"mouse {action} needs an element (selector, element or to)")
        return args.add(fields.context.text(target), target)
    if action == "up":
        target = fields.hint(("selector", "element", "target"), main=False)
        return args if target is None else args.add(fields.context.text(target), target)
    if action == "down":
        return args
    point = fields.field(*(("offset", "by") if action == "move-by" else ("position", "to")))
    if point is None:
        raise fields.problem(
            f"mouse {action} needs x,y ({'offset or by' if action == 'move-by' else 'position or to'})"
        )
    return args.add(fields.context.text(point), point)


def upload(fields: Fields) -> Args:
    target = fields.hint(("selector", "element", "to", "target", "input", "hint"), main=False)
    source = fields.field("url", "from", "file", "value")
    if target is None or source is None:
        raise fields.problem(
            "needs the file input (selector, element or to) and the file's URL (url or from)"
        )
    return (
        fields.args("step-file", "upload")
        .add(fields.context.text(target), target)
        .add(fields.context.url(source, relative=False), source)
    )
