"""Tokenising, subcommand resolution, aliases, ``--at`` and the errors that name their place."""

from __future__ import annotations

import json

import pytest

from tests.commands.vocabulary.helpers import guess, parse_step, payload
from virtuoso_api.commands.vocabulary import StepCommand, parse_command
from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.steps import Clue, StepAction


def _error(command: str, *args: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_command(command, list(args))
    return caught.value


# --- the seed's commands ---------------------------------------------------------------------------


def test_seed_commands_parse() -> None:
    navigate = parse_step("step-navigate", "to", "https://example.com")
    assert navigate == StepCommand(
        command="step-navigate",
        subcommand="to",
        args=("to", "https://example.com"),
        step=navigate.step,
        at=None,
    )
    assert navigate.step.action is StepAction.NAVIGATE
    assert parse_step("step-interact", "click", "button.submit").subcommand == "click"
    assert parse_step("step-assert", "exists", "Success message").step.action is StepAction.ASSERT_EXISTS


def test_nested_subcommand_is_reported_in_full() -> None:
    parsed = parse_step("step-window", "switch", "tab", "next")
    assert (parsed.command, parsed.subcommand) == ("step-window", "switch tab next")


# --- aliases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["to", "url", "goto"])
def test_navigate_aliases(alias: str) -> None:
    parsed = parse_step("step-navigate", alias, "https://example.com")
    assert parsed.subcommand == "to"
    assert parsed.step.value == "https://example.com"


@pytest.mark.parametrize(
    ("alias", "canonical", "rest"),
    [
        ("top", "scroll-top", []),
        ("bottom", "scroll-bottom", []),
        ("element", "scroll-element", ["Footer"]),
        ("to-element", "scroll-element", ["Footer"]),
        ("position", "scroll-position", ["1,2"]),
        ("to-position", "scroll-position", ["1,2"]),
        ("xy", "scroll-position", ["1,2"]),
        ("by", "scroll-by", ["1,2"]),
        ("offset", "scroll-by", ["1,2"]),
        ("up", "scroll-up", []),
        ("down", "scroll-down", []),
    ],
)
def test_scroll_aliases(alias: str, canonical: str, rest: list[str]) -> None:
    assert (
        parse_step("step-navigate", alias, *rest).step == parse_step("step-navigate", canonical, *rest).step
    )


def test_upload_url_alias_and_command_alias() -> None:
    assert parse_step("step-file", "url", "#f", "https://x.io/a").subcommand == "upload-url"
    assert parse_command("list-checkpoint-steps", ["cp_7"]) == parse_command("list-steps", ["7"])


# --- flags anywhere, `--`, negative numbers -------------------------------------------------------------


def test_flags_may_come_before_the_subcommand_and_between_positionals() -> None:
    expected = parse_step("step-navigate", "to", "https://example.com", "--new-tab").step
    assert parse_step("step-navigate", "--new-tab", "to", "https://example.com").step == expected
    written = parse_step("step-interact", "write", "--variable", "v", "#email")
    assert written.step.variable == "v"
    assert payload("step-interact", "write", "--variable", "v", "#email")["target"] == guess("#email")


def test_flag_equals_value_form() -> None:
    assert parse_step("step-wait", "element", "X", "--timeout=1500").step.meta["timeoutMs"] == 1500
    assert parse_step("step-navigate", "scroll-by", "--x=-5", "--y=-6").step.meta == {
        "type": "OFFSET",
        "x": -5,
        "y": -6,
    }


def test_negative_numbers_are_positionals_without_double_dash() -> None:
    assert parse_step("step-interact", "mouse", "move-by", "-100,0").step.meta == {
        "action": "OFFSET",
        "x": -100,
        "y": 0,
    }
    assert parse_step("step-navigate", "scroll-by", "-100,-250").step.meta["y"] == -250
    assert parse_step("step-assert", "gt", "#n", "-3").step.value == "-3"


def test_value_flag_takes_a_negative_number() -> None:
    assert parse_step("step-navigate", "scroll-by", "--y", "-300").step.meta == {
        "type": "OFFSET",
        "x": 0,
        "y": -300,
    }


def test_double_dash_ends_flags() -> None:
    parsed = parse_step("step-interact", "write", "#f", "--", "--not-a-flag")
    assert parsed.step.value == "--not-a-flag"
    comment = parse_step("step-misc", "comment", "--at", "2", "--", "-x", "--y", "ok")
    assert (comment.step.value, comment.at) == ("-x --y ok", 2)
    assert parse_step("step-interact", "mouse", "move", "--", "-1,-2").step.meta == {
        "action": "MOVE",
        "x": -1,
        "y": -2,
    }


def test_lone_dash_is_a_positional() -> None:
    assert parse_step("step-interact", "write", "#f", "-").step.value == "-"


def test_short_flag_spelling() -> None:
    parsed = parse_command("create-project", ["Shop", "-d", "checkout"])
    assert parsed == parse_command("create-project", ["Shop", "--description", "checkout"])


# --- --at ---------------------------------------------------------------------------------------------


def test_at_sets_the_position() -> None:
    assert parse_step("step-assert", "exists", "OK", "--at", "3").at == 3
    assert parse_step("step-assert", "--at=1", "exists", "OK").at == 1
    assert parse_step("step-assert", "exists", "OK").at is None


@pytest.mark.parametrize("bad", ["0", "-1", "x", "1.5"])
def test_at_must_be_a_positive_integer(bad: str) -> None:
    assert _error("step-assert", "exists", "OK", f"--at={bad}").field == "args.--at"


def test_a_trailing_number_is_never_a_position() -> None:
    error = _error("step-assert", "exists", "OK", "3")
    assert (error.field, "unexpected extra argument '3'" in error.reason) == ("args[2]", True)
    assert _error("step-wait", "time", "1000", "5").field == "args[2]"


def test_numbers_stay_values() -> None:
    assert parse_step("step-wait", "time", "1000").step.value == "1000"
    stored = parse_step("step-data", "store", "literal", "123", "x").step
    assert (stored.value, stored.variable) == ("123", "x")
    assert parse_step("step-window", "switch", "tab", "index", "2").step.value == "2"


def test_at_is_not_a_flag_of_management_commands() -> None:
    assert _error("create-project", "P", "--at", "2").field == "args.--at"


# --- errors name their place -----------------------------------------------------------------------------


def test_unknown_command() -> None:
    error = _error("step-asert", "exists", "x")
    assert error.field == "command"
    assert "did you mean 'step-assert'" in error.reason
    assert "step-navigate" in error.reason


def test_unknown_subcommand_lists_choices() -> None:
    error = _error("step-navigate", "fly", "https://x.io")
    assert error.field == "args[0]"
    assert "to (url, goto)" in error.reason
    assert "scroll-top (top)" in error.reason


def test_unknown_nested_subcommand() -> None:
    error = _error("step-window", "switch", "tab", "sideways")
    assert error.field == "args[2]"
    assert error.reason.endswith("valid: next, prev (previous), index")


def test_missing_subcommand() -> None:
    assert _error("step-assert").field == "args[0]"
    error = _error("step-interact", "mouse")
    assert error.field == "args[1]"
    assert "move-to, move-by, move, down, up, enter" in error.reason


def test_missing_positional() -> None:
    error = _error("step-assert", "equals", "h1")
    assert error.field == "args[2]"
    assert "missing VALUE" in error.reason
    assert "step-assert equals ELEMENT VALUE" in error.reason


def test_unknown_flag_lists_the_valid_ones() -> None:
    error = _error("step-navigate", "to", "https://x.io", "--smooth")
    assert error.field == "args.--smooth"
    assert error.reason == "unknown flag for step-navigate to; valid flags: --new-tab, --at"


def test_unknown_flag_before_the_subcommand_is_named_as_the_flag() -> None:
    error = _error("step-navigate", "--wait", "5", "to", "https://x.io")
    assert error.field == "args.--wait"


def test_flag_of_a_sibling_command_is_unknown_here() -> None:
    assert _error("step-interact", "hover", "Menu", "--position", "CENTER").field == "args.--position"


def test_switch_with_a_value_and_value_flag_without_one() -> None:
    assert (
        _error("step-navigate", "to", "https://x.io", "--new-tab=yes").reason
        == "is a switch and takes no value"
    )
    missing = _error("step-wait", "element", "X", "--timeout")
    assert missing.field == "args.--timeout"
    assert "needs a value" in missing.reason
    assert _error("step-interact", "click", "--variable", "--at", "2").field == "args.--variable"


def test_flag_given_twice() -> None:
    assert _error("step-assert", "exists", "X", "--at", "1", "--at", "2").reason == "is given more than once"


def test_args_must_be_a_list_of_strings() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_command("step-navigate", "to https://x.io")
    assert caught.value.field == "args"
    with pytest.raises(InvalidInput) as caught:
        parse_command("step-wait", ["time", 1000])  # type: ignore[list-item]
    assert caught.value.field == "args[1]"


# --- either/or arguments ------------------------------------------------------------------------------


def test_click_needs_selector_or_variable_but_not_both() -> None:
    assert _error("step-interact", "click").field == "args[1]"
    assert _error("step-interact", "click", "Save", "--variable", "v").field == "args.--variable"


def test_write_needs_text_or_variable_but_not_both() -> None:
    assert _error("step-interact", "write", "#f").field == "args[2]"
    assert _error("step-interact", "write", "#f", "hi", "--variable", "v").field == "args.--variable"


def test_scroll_needs_xy_or_flags_but_not_both() -> None:
    assert _error("step-navigate", "scroll-by").field == "args[1]"
    assert _error("step-navigate", "scroll-by", "1,2", "--y", "3").field == "args.--y"


def test_confirm_accept_and_reject_exclude_each_other() -> None:
    assert _error("step-dialog", "dismiss-confirm", "--accept", "--reject").field == "args.--reject"


# --- selectors with quotes and backslashes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "selector",
    ['a[title="Say \\"hi\\""]', 'C:\\path\\"quoted"', 'text=It\'s "done"', 'input[name="a\\\\b"]', "naïve ✓"],
)
def test_awkward_selectors_give_valid_clue_json(selector: str) -> None:
    step = parse_step("step-interact", "click", selector).step
    assert step.target is not None
    raw = step.target.selectors[0].value
    assert json.loads(raw) == {"clue": selector}
    assert step.target.clue() == Clue(clue=selector)
    assert json.loads(json.dumps(step.to_payload())) == step.to_payload()
