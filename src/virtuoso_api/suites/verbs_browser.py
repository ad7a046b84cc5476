"""Steps about the browser rather than one element: cookies, the window, tabs and frames, dialogs,
comments and JavaScript."""

from __future__ import annotations

import re
from typing import Final

from virtuoso_api.suites.fields import Args, Fields
from virtuoso_api.suites.tree import Scalar

_COOKIE_ACTIONS: Final = {
    "create": "create",
    "set": "create",
    "add": "create",
    "delete": "delete",
    "remove": "delete",
    "clear": "clear-all",
    "clear-all": "clear-all",
}


def cookie(fields: Fields) -> Args:
    action = fields.choice(_COOKIE_ACTIONS)
    args = fields.args("step-data", "cookie", action)
    if action == "clear-all":
        return args
    name = fields.required("the cookie's name", "name")
    args.add(name.text, name)
    if action == "delete":
        return args
    value = fields.required("the cookie's value", "value")
    args.add(fields.context.text(value), value)
    for key, flag in (("domain", "domain"), ("path", "path")):
        given = fields.field(key)
        if given is not None:
            args.flag(flag, given, given.text)
    for keys, flag in ((("secure",), "secure"), (("http_only", "httpOnly", "http-only"), "http-only")):
        given = fields.field(*keys)
        if given is not None and given.boolean():
            args.flag(flag, given)
    return args


_TAB_TARGETS: Final = {
    "next": "next",
    "next-tab": "next",
    "prev": "prev",
    "previous": "prev",
    "prev-tab": "prev",
    "previous-tab": "prev",
}
_TAB_INDEX = re.compile(r"(?:tab-?)?(\d+)")


def _tab(fields: Fields, node: Scalar) -> Args:
    spelled = node.text.strip().lower().replace("_", "-")
    if spelled in _TAB_TARGETS:
        return fields.args("step-window", "switch", "tab", _TAB_TARGETS[spelled])
    index = _TAB_INDEX.fullmatch(spelled)
    if index is None:
        raise fields.problem(
            f"a tab is next, previous or its 0-based index (tab-1), got {node.text!r:.40}", node
        )
    return fields.args("step-window", "switch", "tab", "index").add(index.group(1), node)


def switch_tab(fields: Fields) -> Args:
    node = fields.main() or fields.required("which tab", "to", "tab", "index")
    return _tab(fields, node)


def switch_frame(fields: Fields) -> Args:
    node = fields.main() or fields.hint(("selector", "element", "iframe", "frame"), main=False)
    if node is None:
        raise fields.problem("needs the iframe element, or parent")
    if node.text.strip().lower() in ("parent", "parent-frame", "main", "default"):
        return fields.args("step-window", "switch", "parent-frame")
    return fields.args("step-window", "switch", "iframe").add(fields.context.text(node), node)


_WINDOW_ACTIONS: Final = {
    "resize": "resize",
    "maximize": "maximize",
    "maximise": "maximize",
    "switch": "switch",
}


def window(fields: Fields) -> Args:
    action = fields.choice(_WINDOW_ACTIONS)
    if action == "maximize":
        return fields.args("step-window", "maximize")
    if action == "resize":
        size = fields.field("size")
        if size is not None:
            return fields.args("step-window", "resize").add(size.text, size)
        width, height = fields.field("width"), fields.field("height")
        if width is None or height is None:
            raise fields.problem("resize needs size: WIDTHxHEIGHT (or width and height)")
        return fields.args("step-window", "resize").add(f"{width.text.strip()}x{height.text.strip()}", width)
    tab = fields.field("to", "tab")
    if tab is not None:
        return _tab(fields, tab)
    iframe = fields.field("iframe", "frame")
    if iframe is not None:
        return fields.args("step-window", "switch", "iframe").add(fields.context.text(iframe), iframe)
    parent = fields.field("parent")
    if parent is not None and parent.boolean():
        return fields.args("step-window", "switch", "parent-frame")
    raise fields.problem("switch needs to: next|previous|tab-N, iframe: SELECTOR or parent: true")


_DIALOG_ANSWERS: Final = {
    "dismiss": "dismiss",
    "close": "dismiss",
    "ok": "accept",
    "accept": "accept",
    "cancel": "reject",
    "reject": "reject",
}


def dialog(fields: Fields) -> Args:
    main = fields.main()
    if main is not None:  # alert: accept -- an alert has one button, whatever it is called
        answer = _DIALOG_ANSWERS.get(main.text.strip().lower())
        if answer is None:
            raise fields.problem("is accept or dismiss (or {type: confirm|prompt, ...})", main)
        return fields.args("step-dialog", "dismiss-alert")
    kind_node = fields.field("type")
    kind = kind_node.text.strip().lower() if kind_node else "alert"
    action = fields.field("action")
    accept = fields.field("accept")
    answer = _DIALOG_ANSWERS.get(action.text.strip().lower()) if action else None
    if action is not None and answer is None:
        raise fields.problem("action is accept, ok, dismiss, cancel or reject", action)
    if accept is not None:
        answer = "accept" if accept.boolean() else "reject"
    if kind == "alert":
        return fields.args("step-dialog", "dismiss-alert")
    if kind == "confirm":
        return fields.args("step-dialog", "dismiss-confirm").flag(
            "accept" if answer == "accept" else "reject",
            action or accept or kind_node or Scalar(fields.line, fields.path, "", "str"),
        )
    if kind == "prompt":
        if answer in ("reject", "dismiss"):
            raise fields.problem(
                "a prompt can only be answered (accepted), with or without text", action or accept
            )
        text = fields.field("text", "with", "value")
        if text is None:
            return fields.args("step-dialog", "dismiss-prompt")
        return fields.args("step-dialog", "dismiss-prompt-with-text").add(fields.context.text(text), text)
    raise fields.problem("type is alert, confirm or prompt", kind_node)


def comment(fields: Fields) -> Args:
    text = fields.main() or fields.required("the text", "text", "value")
    return fields.args("step-misc", "comment").add(fields.context.text(text), text)


def execute(fields: Fields) -> Args:
    script = fields.main() or fields.required("the script", "script", "code", "value")
    # Only {{name}} is filled in: in JavaScript, $name is the script's own.
    return fields.args("step-misc", "execute").add(
        fields.context.variables.text(script, dollar=False), script
    )
