"""Variables ({{name}}, $name, [name] in URLs, --var over the file), loops and conditions decided
from the file's data, sections, the header's spellings, and JSON with its lines."""

from __future__ import annotations

import json

import pytest

from tests.suites.helpers import problems, steps, suite, warnings
from virtuoso_api.errors import InvalidInput
from virtuoso_api.suites import Ref, SuiteInvalid, parse_assignments, parse_suite

SHOP = """\
name: shop
url: https://{{host}}/
variables:
  - {name: host, value: shop.example}
  - {name: user, value: ada}
data:
  greeting: Hello
steps:
  - write: {selector: Name, text: "{{user}}"}
  - write: {selector: Note, text: "$greeting, $user; total $TOTAL"}
  - write: {selector: Code, text: $couponCode}
  - store: {selector: Order number, as: $order}
  - assert: {selector: Order, equals: $order}
  - js: "return $greeting"
"""


def test_file_variables_fill_in_and_unknown_dollars_go_to_virtuoso() -> None:
    parsed = suite(SHOP)
    assert parsed.starting_url == "https://shop.example/"
    assert [(s.command, list(s.args)) for s in parsed.steps] == [
        ("step-interact", ["write", "Name", "ada"]),
        ("step-interact", ["write", "Note", "Hello, ada; total $TOTAL"]),
        # The whole text is a variable Virtuoso holds: the step's variable, as Virtuoso stores it.
        ("step-interact", ["write", "Code", "--variable", "couponCode"]),
        ("step-data", ["store", "element-text", "Order number", "$order"]),
        ("step-assert", ["equals", "Order", "$order"]),  # stored above: no warning
        ("step-misc", ["execute", "return $greeting"]),  # $ in JavaScript is the script's own
    ]
    assert [(line, message.split(":")[0]) for line, _, message in parsed_warnings(SHOP)] == [
        (10, "$TOTAL is not defined in the file or by --var"),
        (11, "$couponCode is not defined in the file or by --var"),
    ]


def parsed_warnings(text: str) -> list[tuple[int | None, str, str]]:
    return warnings(text)


def test_var_overrides_the_file() -> None:
    assert steps(SHOP, user="grace", couponCode="SAVE10")[:3] == [
        (9, "step-interact", ["write", "Name", "grace"]),
        (10, "step-interact", ["write", "Note", "Hello, grace; total $TOTAL"]),
        (11, "step-interact", ["write", "Code", "SAVE10"]),
    ]


def test_an_undefined_template_is_an_error_never_sent() -> None:
    assert problems("name: t\nsteps:\n  - comment: 'hi {{ who }}'\n") == [
        (
            3,
            "steps[0].comment",
            "{{ who }} is not defined: pass --var who=VALUE, or define who in the file's variables (or data)",
        )
    ]


def test_var_assignments_are_checked() -> None:
    assert parse_assignments(["a=1", "b==2", "c="]) == {"a": "1", "b": "=2", "c": ""}
    with pytest.raises(InvalidInput, match="--var: must be NAME=VALUE"):
        parse_assignments(["1abc=x"])
    with pytest.raises(InvalidInput, match="--var: must be NAME=VALUE"):
        parse_assignments(["novalue"])


def test_a_loop_over_data_is_unrolled_and_an_if_on_data_decided() -> None:
    text = """\
        test: flow
        data:
          sizes: [S, M, L]
          region: eu
        setup:
          - nav: https://a.example
        do:
          - loop:
              over: $sizes
              as: size
              max: 2
              do:
                - c: Size $size
          - if:
              cond: $region == eu
              then:
                - c: Accept cookies
              else:
                - comment: no banner
        teardown:
          - c: Log out
        """
    parsed = suite(text)
    assert [(s.name, [(st.line, st.args[-1]) for st in s.steps]) for s in parsed.sections] == [
        ("setup", [(6, "https://a.example")]),
        ("do", [(13, "Size S"), (13, "Size M"), (17, "Accept cookies")]),
        ("teardown", [(21, "Log out")]),
    ]
    assert steps(text, region="us")[3] == (19, "step-misc", ["comment", "no banner"])


def test_a_loop_or_if_on_the_page_cannot_be_expressed() -> None:
    text = """\
        test: flow
        do:
          - loop: {over: $rows, do: [{c: Row}]}
          - if: {cond: exists Login, then: [{c: Login}]}
          - loop: {over: [a], do: [{c: x}], until: never}
        """
    found = problems(text)
    assert [(line, field) for line, field, _ in found] == [
        (3, "do[0].loop.over"),
        (4, "do[1].if.cond"),
        (5, "do[2].loop"),
    ]
    assert "a loop over what the page shows at run time cannot be expressed" in found[0][2]
    assert "Virtuoso steps have no conditions" in found[1][2]
    assert found[2][2] == "loop takes over, as, do and max, not 'until'"


def test_the_header_spellings() -> None:
    parsed = suite(
        """\
        test: t
        desc: about
        base: https://base.example/app/
        project: {id: 12, name: Shop}
        goal_name: Checkout
        checkpoint_id: 77
        infrastructure: {organization_id: 2242}
        config: {on_error: continue, timeout: 300, retry: 2, viewport: 1280x800}
        do:
          - nav: cart
        """
    )
    assert (parsed.name, parsed.description, parsed.starting_url) == (
        "t",
        "about",
        "https://base.example/app/",
    )
    assert parsed.infrastructure.project == Ref(12, "Shop")
    assert parsed.infrastructure.goal == Ref(name="Checkout")
    assert parsed.infrastructure.checkpoint == Ref(id=77)
    assert parsed.infrastructure.organization_id == 2242
    assert (parsed.config.continue_on_error, parsed.config.timeout_seconds, parsed.config.retries) == (
        True,
        300,
        2,
    )
    assert [list(s.args) for s in parsed.steps] == [["to", "https://base.example/app/cart"]]


def test_header_mistakes_are_named() -> None:
    assert problems(
        "name: t\nstarting_url: https://a.example\nurl: https://b.example\nsteps: [{c: x}]\n"
    ) == [(3, "url", "url and starting_url both give the starting_url; keep one")]
    assert problems("name: t\ntags: [smoke]\nsteps: [{c: x}]\n")[0][:2] == (2, "tags")
    assert problems("name: t\nproject: -4\nsteps: [{c: x}]\n") == [
        (2, "project", "project must be a positive id, got '-4'")
    ]
    assert warnings("name: t\nconfig: {screenshot_on_error: true}\nsteps: [{c: x}]\n") == [
        (
            2,
            "config.screenshot_on_error",
            "config.screenshot_on_error is not used: Virtuoso keeps a screenshot of every step itself",
        )
    ]


def test_json_suites_keep_their_lines() -> None:
    document = {"name": "j", "steps": [{"click": "Save"}, {"wait": 2}, {"write": {"selector": "A"}}]}
    text = json.dumps(document, indent="\t")
    with pytest.raises(SuiteInvalid) as refused:
        parse_suite(text, source="s.json", syntax="json")
    # Line 10 is the third step's "{" (json.dumps puts each brace on its own line).
    assert [(p.line, p.field) for p in refused.value.problems] == [(10, "steps[2]")]
    ok = parse_suite(
        json.dumps({"name": "j", "steps": [{"click": "Sav\u00e9 \ud83d\ude00"}]}), source="s.json"
    )
    assert ok.syntax == "json"
    assert list(ok.steps[0].args) == ["click", "Sav\u00e9 \U0001f600"]


def test_json_is_strict_when_it_says_it_is_json() -> None:
    assert problems_json('{"name": "j", "steps": [{"click": "x"},]}') == [
        (1, "", "not valid JSON: Expecting value (column 40)")
    ]
    assert problems_json('{"name": "j", "name": "k", "steps": [{"click": "x"}]}') == [
        (1, "name", "is given twice (first on line 1)")
    ]


def problems_json(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SuiteInvalid) as refused:
        parse_suite(text, source="s.json", syntax="json")
    return [(p.line, p.field, p.message) for p in refused.value.problems]
