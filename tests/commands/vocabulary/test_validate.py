"""Each validator rejects bad input with the argument's place named."""

from __future__ import annotations

import pytest

from virtuoso_api.commands.vocabulary import parse_command
from virtuoso_api.errors import InvalidInput

REJECTED: list[tuple[str, list[str], str, str]] = [
    # (command, args, field, a fragment of the reason)
    ("step-navigate", ["to", "ftp://example.com"], "args[1]", "http:// or https://"),
    ("step-navigate", ["to", "/etc/passwd"], "args[1]", "local paths"),
    ("step-navigate", ["to", "file:///tmp/x.html"], "args[1]", "local paths"),
    ("step-navigate", ["to", "C:\\files\\a.html"], "args[1]", "local paths"),
    ("step-navigate", ["to", "example.com"], "args[1]", "local paths"),
    ("step-navigate", ["to", "https://"], "args[1]", "http:// or https://"),
    ("step-navigate", ["to", "https://exa mple.com"], "args[1]", "without spaces"),
    # Brackets in a host hold an IPv6 address; urllib raises ValueError for anything else.
    ("step-navigate", ["to", "https://[instance].crm.dynamics.com"], "args[1]", "not a valid URL"),
    ("step-navigate", ["to", "http://[::1"], "args[1]", "not a valid URL"),
    ("step-file", ["upload", "#f", "/home/me/cv.pdf"], "args[2]", "local paths"),
    ("step-file", ["upload-url", "#f", "javascript:alert(1)"], "args[2]", "http:// or https://"),
    ("step-window", ["resize", "0x800"], "args[1]", "positive"),
    ("step-window", ["resize", "1280"], "args[1]", "WIDTHxHEIGHT"),
    ("step-window", ["resize", "-1280x800"], "args[1]", "WIDTHxHEIGHT"),
    ("step-window", ["resize", "wide x tall"], "args[1]", "WIDTHxHEIGHT"),
    ("step-interact", ["mouse", "move", "1.5,2"], "args[2]", "x,y"),
    ("step-interact", ["mouse", "move-by", "10"], "args[2]", "x,y"),
    ("step-navigate", ["scroll-position", "a,b"], "args[1]", "x,y"),
    ("step-navigate", ["scroll-by", "--x", "left"], "args.--x", "whole number"),
    ("step-wait", ["time", "60001"], "args[1]", "from 0 to 60000"),
    ("step-wait", ["time", "-1"], "args[1]", "from 0 to 60000"),
    ("step-wait", ["time", "1s"], "args[1]", "whole number"),
    ("step-wait", ["element", "X", "--timeout", "90000"], "args.--timeout", "from 0 to 60000"),
    ("step-interact", ["select", "index", "#c", "-1"], "args[3]", ">= 0"),
    ("step-window", ["switch", "tab", "index", "-1"], "args[3]", ">= 0"),
    ("step-assert", ["matches", "#x", "(unclosed"], "args[2]", "Python's re"),
    ("step-assert", ["matches", "#x", ""], "args[2]", "empty"),
    ("step-assert", ["exists", ""], "args[1]", "empty"),
    ("step-assert", ["exists", "   "], "args[1]", "empty"),
    ("step-assert", ["gt", "#n", ""], "args[2]", "empty"),
    ("step-interact", ["click", "--variable", "1abc"], "args.--variable", "variable name"),
    ("step-interact", ["write", "#f", "--variable", "$"], "args.--variable", "variable name"),
    ("step-data", ["store", "literal", "1", "my-var"], "args[3]", "variable name"),
    ("step-assert", ["variable", "a b", "1"], "args[1]", "variable name"),
    ("step-interact", ["click", "X", "--position", "MIDDLE"], "args.--position", "TOP_LEFT"),
    ("step-interact", ["click", "X", "--element-type", "a b"], "args.--element-type", "element type"),
    ("step-interact", ["key", ""], "args[1]", "empty"),
    (
        "step-interact",
        ["key", "a", "--modifiers", "ctrl,hyper"],
        "args.--modifiers",
        "ctrl, shift, alt, meta",
    ),
    ("step-interact", ["key", "a", "--target", ""], "args.--target", "empty"),
    ("step-data", ["store", "attribute", "a", "data id", "v"], "args[3]", "attribute"),
    ("step-data", ["cookie", "create", "my cookie", "v"], "args[2]", "cookie name"),
    ("step-data", ["cookie", "create", "a;b", "v"], "args[2]", "cookie name"),
    ("step-data", ["cookie", "create", "sid", "a;b"], "args[3]", "';'"),
    ("step-data", ["cookie", "create", "sid", "v", "--domain", "http://x.io"], "args.--domain", "host name"),
    ("step-data", ["cookie", "create", "sid", "v", "--path", "app"], "args.--path", "starting with /"),
    ("step-data", ["cookie", "delete", ""], "args[2]", "cookie name"),
    ("step-misc", ["comment", " "], "args[1]", "empty"),
    ("create-project", [""], "args[0]", "empty"),
    ("create-project", ["P", "--description", ""], "args.--description", "empty"),
    ("list-projects", ["--limit", "0"], "args.--limit", ">= 1"),
    ("list-projects", ["--offset", "-1"], "args.--offset", ">= 0"),
    ("create-goal", ["0", "G"], "args[0]", "positive id"),
    ("create-goal", ["1", "G", "--url", "www.example.com"], "args.--url", "http"),
    ("list-goals", ["abc"], "args[0]", "positive id"),
    ("create-journey", ["1", "J", "--snapshot", "-4"], "args.--snapshot", "positive id"),
    ("create-checkpoint", ["1", "C", "--position", "1"], "args.--position", ">= 2"),
    ("list-checkpoints", ["cp_1"], "args[0]", "positive id"),
    ("list-steps", ["lib_1"], "args[0]", "cp_456"),
    ("get-step", ["1.0"], "args[0]", "positive id"),
    ("get-execution", ["a/b"], "args[0]", "positive id"),
    ("get-execution", ["exec_abc-123"], "args[0]", "positive id"),
    ("get-execution-analysis", [""], "args[0]", "positive id"),
    ("execute-journey", ["0"], "args[0]", "positive id"),
    ("execute-plan", ["7", "--environment", "x"], "args.--environment", "positive id"),
    ("library", ["add", "lib_1"], "args[1]", "cp_456"),
    ("library", ["get", "cp_1"], "args[1]", "lib_456"),
    ("library", ["update", "7", " "], "args[2]", "empty"),
    ("library", ["attach", "1", "7", "1"], "args[3]", ">= 2"),
    ("library", ["move-step", "7", "9", "0"], "args[3]", ">= 1"),
    ("library", ["remove-step", "7", "x"], "args[2]", "positive id"),
]


@pytest.mark.parametrize(
    ("command", "args", "field", "reason"), REJECTED, ids=[" ".join([c, *a]) for c, a, _, _ in REJECTED]
)
def test_rejected(command: str, args: list[str], field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_command(command, args)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert caught.value.details == [{"field": field, "reason": caught.value.reason}]


@pytest.mark.parametrize(
    ("args", "meta"),
    [
        (["resize", "1x1"], {"width": 1, "height": 1}),
        (["resize", "1920X1080"], {"width": 1920, "height": 1080}),
        (["resize", " 800 x 600 "], {"width": 800, "height": 600}),
    ],
)
def test_sizes_accepted(args: list[str], meta: dict[str, int]) -> None:
    parsed = parse_command("step-window", args)
    assert parsed.step.meta["dimension"] == meta  # type: ignore[union-attr]


def test_limits_are_inclusive() -> None:
    for ms in ("0", "60000"):
        parse_command("step-wait", ["time", ms])
        parse_command("step-wait", ["element", "X", "--timeout", ms])
