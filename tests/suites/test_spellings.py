"""The spellings people use for one step, the rule chosen where the meaning is ambiguous (with a
warning on its line), and the steps no vocabulary command can express (an error on its line)."""

from __future__ import annotations

import pytest

from tests.suites.helpers import problems, steps, suite, warnings


@pytest.mark.parametrize(
    "spelling", ["double-click", "doubleClick", "double_click", "DoubleClick", "dblclick"]
)
def test_double_click_spellings(spelling: str) -> None:
    assert steps(f"name: t\nsteps:\n  - {spelling}: Product image\n") == [
        (3, "step-interact", ["double-click", "Product image"])
    ]


@pytest.mark.parametrize(
    "step",
    [
        "assert_text: {selector: Status, expected: Won}",
        "assertText: {selector: Status, expected: Won}",
        "assert: {type: equals, selector: Status, value: Won}",
        "assert: {selector: Status, equals: Won}",
        "eq: {Status: Won}",
        "{action: assert, assertion: text, hint: Status, expected: Won}",
        "{type: assert, command: equals, target: Status, value: Won}",
    ],
)
def test_one_equals_assertion_written_seven_ways(step: str) -> None:
    assert steps(f"name: t\nsteps:\n  - {step}\n") == [(3, "step-assert", ["equals", "Status", "Won"])]


@pytest.mark.parametrize(
    ("written", "ms", "warned"),
    [
        ("2", "2000", True),  # the D365 authors' seconds
        ("60", "60000", True),
        ("1.5", "1500", True),
        ("61", "61", False),  # above 60 a bare number is milliseconds
        ("20000", "20000", False),
        ("2s", "2000", False),
        ("2 seconds", "2000", False),
        ("500ms", "500", False),
        ("{ms: 2}", "2", False),
        ("{seconds: 3}", "3000", False),
    ],
)
def test_wait_times(written: str, ms: str, warned: bool) -> None:
    text = f"name: t\nsteps:\n  - wait: {written}\n"
    assert steps(text) == [(3, "step-wait", ["time", ms])]
    assert bool(warnings(text)) is warned


def test_a_wait_for_text_is_a_wait_for_that_element() -> None:
    assert steps("name: t\nsteps:\n  - wait: Order saved\n  - wait: {element: Done, timeout: 5s}\n") == [
        (3, "step-wait", ["element", "Order saved"]),
        (4, "step-wait", ["element", "Done", "--timeout", "5000"]),
    ]


def test_compact_write_forms_and_hints() -> None:
    text = """\
        test: shop
        nav: https://shop.example
        do:
          - t: {Email: a@b.c}
          - t: x@y.z in "Email"
          - t: Sign in now
            in: Comment
          - write: {text: "4111", css: "#card"}
          - click: {text: Add to Bag, css: "#add"}
        """
    assert steps(text) == [
        (4, "step-interact", ["write", "Email", "a@b.c"]),
        (5, "step-interact", ["write", "Email", "x@y.z"]),
        (6, "step-interact", ["write", "Comment", "Sign in now"]),
        (8, "step-interact", ["write", "#card", "4111"]),
        (9, "step-interact", ["click", "Add to Bag"]),
    ]
    assert warnings(text) == [
        (
            9,
            "do[4]",
            "click: several element hints (text, css): using text 'Add to Bag'; Virtuoso finds an element "
            "from one hint, the others are ignored",
        )
    ]


def test_values_that_look_like_flags_or_numbers_stay_text() -> None:
    text = """\
        name: t
        steps:
          - write: {selector: Amount, text: -5}
          - write: {selector: Code, text: --all}
          - write: {selector: Zip, text: 01234}
          - select: {selector: Answer, option: Yes}
        """
    assert steps(text) == [
        (3, "step-interact", ["write", "Amount", "-5"]),
        (4, "step-interact", ["write", "--", "Code", "--all"]),
        (5, "step-interact", ["write", "Zip", "01234"]),
        (6, "step-interact", ["select", "option", "Answer", "Yes"]),
    ]


def test_every_step_kind_reaches_a_vocabulary_command() -> None:
    text = """\
        name: everything
        steps:
          - navigate: {url: "https://a.example", new_tab: true}
          - scroll: bottom
          - scroll: {by: "0,-200"}
          - scroll: Footer
          - hover: Menu
          - right-click: Row
          - key: {key: a, modifiers: [ctrl, shift]}
          - select: {from: Country, index: 2}
          - mouse: {action: move-by, by: "10,5"}
          - upload: {selector: CV, url: "https://files.example/cv.pdf"}
          - store: {type: attribute, selector: Link, attribute: href, as: link}
          - store: {type: literal, value: "42", as: answer}
          - cookie: {action: set, name: session, value: abc, secure: true}
          - cookie: clear
          - window: {action: resize, size: 1280x800}
          - switch_tab: tab-1
          - iframe: "#payment"
          - iframe: parent
          - alert: accept
          - dialog: {type: confirm, accept: true}
          - dialog: {type: prompt, text: John}
          - comment: Checkout done
          - js: "return $('#x').length"
          - nch: Error banner
          - gt: {selector: Cart count, value: 0}
        """
    assert [(command, args) for _, command, args in steps(text)] == [
        ("step-navigate", ["to", "https://a.example", "--new-tab"]),
        ("step-navigate", ["scroll-bottom"]),
        ("step-navigate", ["scroll-by", "0,-200"]),
        ("step-navigate", ["scroll-element", "Footer"]),
        ("step-interact", ["hover", "Menu"]),
        ("step-interact", ["right-click", "Row"]),
        ("step-interact", ["key", "a", "--modifiers", "ctrl,shift"]),
        ("step-interact", ["select", "index", "Country", "2"]),
        ("step-interact", ["mouse", "move-by", "10,5"]),
        ("step-file", ["upload", "CV", "https://files.example/cv.pdf"]),
        ("step-data", ["store", "attribute", "Link", "href", "link"]),
        ("step-data", ["store", "literal", "42", "answer"]),
        ("step-data", ["cookie", "create", "session", "abc", "--secure"]),
        ("step-data", ["cookie", "clear-all"]),
        ("step-window", ["resize", "1280x800"]),
        ("step-window", ["switch", "tab", "index", "1"]),
        ("step-window", ["switch", "iframe", "#payment"]),
        ("step-window", ["switch", "parent-frame"]),
        ("step-dialog", ["dismiss-alert"]),
        ("step-dialog", ["dismiss-confirm", "--accept"]),
        ("step-dialog", ["dismiss-prompt-with-text", "John"]),
        ("step-misc", ["comment", "Checkout done"]),
        ("step-misc", ["execute", "return $('#x').length"]),
        ("step-assert", ["not-exists", "Error banner"]),
        ("step-assert", ["gt", "Cart count", "0"]),
    ]


def test_unknown_keys_and_steps_are_errors_on_their_line() -> None:
    text = """\
        name: t
        steps:
          - click: {selector: Save, force: true}
          - frobnicate: now
          - write: {selector: Name}
          - click:
        """
    assert problems(text) == [
        (
            3,
            "steps[0].click.force",
            "click does not take 'force' (it takes: selector, element, target, hint, "
            "text, label, placeholder, css, xpath, value, variable, position, element_type, elementType)",
        ),
        (
            4,
            "steps[1].frobnicate",
            "unknown step 'frobnicate'; steps are assert, click, comment, cookie, dialog, double-click, "
            "execute, hover, if, key, loop, mouse, navigate, right-click, scroll, select, store, "
            "switch-frame, "
            "switch-tab, upload, wait, window, write",
        ),
        (5, "steps[2]", "write: needs the text to write (text, value, content, with)"),
        (
            6,
            "steps[3]",
            "click: needs an element (the value, or one of selector, element, target, hint, text, "
            "label, placeholder, css, xpath)",
        ),
    ]


def test_the_vocabulary_refusal_points_at_the_field() -> None:
    text = "name: t\nsteps:\n  - navigate: https://ok.example\n  - wait:\n      ms: 90000\n"
    assert problems(text) == [(5, "steps[1].wait.ms", "must be a whole number from 0 to 60000, got 90000")]


def test_steps_keep_their_descriptions() -> None:
    parsed = suite(
        "name: t\nsteps:\n  - c: Save\n    desc: Save the form\n  - {action: click, hint: Go, name: Go on}\n"
    )
    assert [step.description for step in parsed.steps] == ["Save the form", "Go on"]


def test_a_suite_needs_steps_and_a_map() -> None:
    assert problems("name: t\n") == [(1, "", "no steps: list them under steps (or setup, do and teardown)")]
    assert problems("- click: x\n") == [(1, "", "a suite is a map with name and steps, got a list")]
    assert problems("") == [(None, "", "a suite is a map with name and steps, got an empty file")]
    assert problems("name: t\nsteps: []\n") == [(2, "steps", "steps has no steps")]
