"""Every step command's exact payload (original-system.md §1.4, with the documented fixes)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.commands.vocabulary.helpers import ai, guess, payload


def _p(
    action: str, /, *, target: Any = None, value: str = "", variable: str | None = None, **meta: Any
) -> Any:
    data: dict[str, Any] = {"action": action, "value": value, "meta": meta}
    if target is not None:
        data["target"] = target
    if variable is not None:
        data["variable"] = variable
    return data


CASES: list[tuple[str, list[str], Any]] = [
    # step-assert (12)
    ("step-assert", ["exists", "Success message"], _p("ASSERT_EXISTS", target=guess("Success message"))),
    ("step-assert", ["not-exists", "Error"], _p("ASSERT_NOT_EXISTS", target=guess("Error"))),
    ("step-assert", ["equals", "h1", "Welcome"], _p("ASSERT_EQUALS", target=guess("h1"), value="Welcome")),
    ("step-assert", ["equals", "h1", ""], _p("ASSERT_EQUALS", target=guess("h1"), value="")),
    (
        "step-assert",
        ["not-equals", "#s", "Failed"],
        _p("ASSERT_NOT_EQUALS", target=guess("#s"), value="Failed"),
    ),
    ("step-assert", ["checked", "Remember me"], _p("ASSERT_CHECKED", target=guess("Remember me"))),
    ("step-assert", ["selected", "#c"], _p("ASSERT_SELECTED", target=guess("#c"))),
    ("step-assert", ["gt", "#n", "0"], _p("ASSERT_GREATER_THAN", target=guess("#n"), value="0")),
    ("step-assert", ["gte", "#n", "1"], _p("ASSERT_GREATER_THAN_OR_EQUAL", target=guess("#n"), value="1")),
    ("step-assert", ["lt", "#n", "-5"], _p("ASSERT_LESS_THAN", target=guess("#n"), value="-5")),
    ("step-assert", ["lte", "#n", "$max"], _p("ASSERT_LESS_THAN_OR_EQUAL", target=guess("#n"), value="$max")),
    ("step-assert", ["matches", "#id", r"^\d+$"], _p("ASSERT_MATCHES", target=guess("#id"), value=r"^\d+$")),
    (
        "step-assert",
        ["variable", "$orderId", "42"],
        _p("ASSERT_VARIABLE", value="42", variable="orderId", kind="ASSERT_VARIABLE", type="EQUALS"),
    ),
    # step-interact (6 + mouse 6 + select 3)
    ("step-interact", ["click", "button.submit"], _p("CLICK", target=guess("button.submit"))),
    (
        "step-interact",
        ["click", "--variable", "$btn"],
        _p("CLICK", target=guess("", variable="btn")),
    ),
    (
        "step-interact",
        ["click", "Save", "--position", "TOP_LEFT"],
        _p("CLICK", target=guess("Save", position="TOP_LEFT")),
    ),
    (
        "step-interact",
        ["click", "Save", "--element-type", "BUTTON"],
        _p("CLICK", target=guess("Save", position="CENTER", elementType="BUTTON")),
    ),
    (
        "step-interact",
        ["click", "Save", "--position", "bottom-right", "--element-type", "LINK"],
        _p("CLICK", target=guess("Save", position="BOTTOM_RIGHT", elementType="LINK")),
    ),
    ("step-interact", ["double-click", "img"], _p("MOUSE", target=guess("img"), action="DOUBLE_CLICK")),
    ("step-interact", ["right-click", "row"], _p("MOUSE", target=guess("row"), action="RIGHT_CLICK")),
    ("step-interact", ["hover", "Menu"], _p("MOUSE", target=guess("Menu"), action="OVER")),
    ("step-interact", ["write", "#email", "a@b.c"], _p("WRITE", target=guess("#email"), value="a@b.c")),
    (
        "step-interact",
        ["write", "#email", "--variable", "email"],
        _p("WRITE", target=guess("#email"), variable="email"),
    ),
    ("step-interact", ["key", "Enter"], _p("KEY", value="Enter")),
    (
        "step-interact",
        ["key", "a", "--modifiers", "ctrl,Shift", "--alt", "--ctrl", "--target", "#editor"],
        _p("KEY", target=guess("#editor"), value="a", modifiers=["ctrl", "shift", "alt"]),
    ),
    ("step-interact", ["key", "Tab", "--meta"], _p("KEY", value="Tab", modifiers=["meta"])),
    ("step-interact", ["mouse", "move-to", "Zone"], _p("MOUSE", target=guess("Zone"), action="MOVE")),
    ("step-interact", ["mouse", "move-by", "-100,0"], _p("MOUSE", action="OFFSET", x=-100, y=0)),
    ("step-interact", ["mouse", "move", "200,-30"], _p("MOUSE", action="MOVE", x=200, y=-30)),
    ("step-interact", ["mouse", "down"], _p("MOUSE", target=guess(""), action="DOWN")),
    ("step-interact", ["mouse", "up"], _p("MOUSE", target=guess(""), action="UP")),
    ("step-interact", ["mouse", "up", "Zone"], _p("MOUSE", target=guess("Zone"), action="UP")),
    ("step-interact", ["mouse", "enter", "Nav"], _p("MOUSE", target=guess("Nav"), action="ENTER")),
    ("step-interact", ["select", "option", "#c", "France"], _p("PICK", target=guess("#c"), value="France")),
    (
        "step-interact",
        ["select", "index", "#c", "0"],
        _p("PICK", target=guess("#c"), value="0", type="INDEX"),
    ),
    ("step-interact", ["select", "last", "#c"], _p("PICK", target=guess("#c"), value="-1", type="INDEX")),
    # step-navigate (8)
    (
        "step-navigate",
        ["to", "https://example.com"],
        _p("NAVIGATE", value="https://example.com", useNewTab=False),
    ),
    (
        "step-navigate",
        ["to", "http://example.com/a?b=1", "--new-tab"],
        _p("NAVIGATE", value="http://example.com/a?b=1", useNewTab=True),
    ),
    ("step-navigate", ["scroll-top"], _p("SCROLL", type="TOP")),
    ("step-navigate", ["scroll-bottom"], _p("SCROLL", type="BOTTOM")),
    ("step-navigate", ["scroll-element", "Footer"], _p("SCROLL", target=ai("Footer"), type="ELEMENT")),
    ("step-navigate", ["scroll-position", "0,500"], _p("SCROLL", type="POSITION", x=0, y=500)),
    ("step-navigate", ["scroll-position", "--y", "300"], _p("SCROLL", type="POSITION", x=0, y=300)),
    ("step-navigate", ["scroll-by", "-100,0"], _p("SCROLL", type="OFFSET", x=-100, y=0)),
    ("step-navigate", ["scroll-by", "--x", "-20", "--y", "-40"], _p("SCROLL", type="OFFSET", x=-20, y=-40)),
    ("step-navigate", ["scroll-up"], _p("SCROLL", type="OFFSET", x=0, y=-1000)),
    ("step-navigate", ["scroll-down"], _p("SCROLL", type="OFFSET", x=0, y=1000)),
    # step-window (7)
    (
        "step-window",
        ["resize", "1280x800"],
        _p("WINDOW", type="RESIZE", dimension={"width": 1280, "height": 800}),
    ),
    ("step-window", ["maximize"], _p("WINDOW", type="MAXIMIZE")),
    ("step-window", ["switch", "tab", "next"], _p("SWITCH", kind="SWITCH", type="NEXT_TAB")),
    ("step-window", ["switch", "tab", "prev"], _p("SWITCH", kind="SWITCH", type="PREV_TAB")),
    ("step-window", ["switch", "tab", "index", "2"], _p("SWITCH", value="2", kind="SWITCH", type="TAB")),
    (
        "step-window",
        ["switch", "iframe", "#pay"],
        _p("SWITCH", target=guess("#pay"), kind="SWITCH", type="FRAME_BY_ELEMENT"),
    ),
    ("step-window", ["switch", "parent-frame"], _p("SWITCH", kind="SWITCH", type="PARENT_FRAME")),
    # step-data (7)
    ("step-data", ["store", "element-text", "#o", "$id"], _p("STORE", target=guess("#o"), variable="id")),
    (
        "step-data",
        ["store", "element-value", "#e", "email"],
        _p("STORE", target=guess("#e"), variable="email", type="ELEMENT_VALUE"),
    ),
    (
        "step-data",
        ["store", "attribute", "a", "href", "link"],
        _p("STORE", target=guess("a"), variable="link", attribute="href"),
    ),
    ("step-data", ["store", "literal", "123", "x"], _p("STORE", value="123", variable="x")),
    (
        "step-data",
        ["cookie", "create", "sid", "abc"],
        _p("ENVIRONMENT", value="abc", type="ADD", name="sid", path="/"),
    ),
    (
        "step-data",
        [
            "cookie",
            "create",
            "sid",
            "abc",
            "--domain",
            ".example.com",
            "--path",
            "/app",
            "--secure",
            "--http-only",
        ],
        _p(
            "ENVIRONMENT",
            value="abc",
            type="ADD",
            name="sid",
            path="/app",
            domain=".example.com",
            secure=True,
            httpOnly=True,
        ),
    ),
    ("step-data", ["cookie", "delete", "sid"], _p("ENVIRONMENT", type="DELETE", name="sid")),
    ("step-data", ["cookie", "clear-all"], _p("ENVIRONMENT", type="CLEAR")),
    # step-dialog (4)
    ("step-dialog", ["dismiss-alert"], _p("DISMISS", kind="DISMISS", type="ALERT")),
    ("step-dialog", ["dismiss-confirm"], _p("DISMISS", kind="DISMISS", type="CONFIRM", action="CANCEL")),
    (
        "step-dialog",
        ["dismiss-confirm", "--reject"],
        _p("DISMISS", kind="DISMISS", type="CONFIRM", action="CANCEL"),
    ),
    (
        "step-dialog",
        ["dismiss-confirm", "--accept"],
        _p("DISMISS", kind="DISMISS", type="CONFIRM", action="OK"),
    ),
    ("step-dialog", ["dismiss-prompt"], _p("DISMISS", kind="DISMISS", type="PROMPT", action="OK")),
    (
        "step-dialog",
        ["dismiss-prompt-with-text", "Jane"],
        _p("DISMISS", value="Jane", kind="DISMISS", type="PROMPT", action="OK"),
    ),
    # step-wait (2)
    (
        "step-wait",
        ["element", "Done"],
        _p("WAIT", target=ai("Done"), type="ELEMENT_VISIBLE", timeoutMs=20000),
    ),
    (
        "step-wait",
        ["element", "Done", "--timeout", "5000"],
        _p("WAIT", target=ai("Done"), type="ELEMENT_VISIBLE", timeoutMs=5000),
    ),
    ("step-wait", ["time", "1000"], _p("WAIT", value="1000", type="TIME")),
    ("step-wait", ["time", "0"], _p("WAIT", value="0", type="TIME")),
    # step-file (2)
    (
        "step-file",
        ["upload", "#cv", "https://example.com/cv.pdf"],
        _p("UPLOAD", target=guess("#cv"), value="https://example.com/cv.pdf"),
    ),
    (
        "step-file",
        ["upload-url", "#cv", "https://example.com/cv.pdf"],
        _p("UPLOAD", target=guess("#cv"), value="https://example.com/cv.pdf"),
    ),
    # step-misc (2)
    ("step-misc", ["comment", "Log", "in", "first"], _p("COMMENT", value="Log in first")),
    (
        "step-misc",
        ["execute", "return 1 + 1;"],
        _p("EXECUTE", value="return 1 + 1;", explicit=True, script="return 1 + 1;"),
    ),
]


@pytest.mark.parametrize(("command", "args", "expected"), CASES, ids=[" ".join([c, *a]) for c, a, _ in CASES])
def test_payload(command: str, args: list[str], expected: Any) -> None:
    assert payload(command, *args) == expected


def test_every_step_leaf_has_a_payload_case() -> None:
    from virtuoso_api.commands.vocabulary.registry import specs

    covered = set()
    for command, args, _ in CASES:
        for spec in specs():
            if spec.command == command and tuple(args[: len(spec.path)]) == spec.path:
                covered.add(spec.title)
    assert covered == {spec.title for spec in specs() if spec.kind == "step"}
