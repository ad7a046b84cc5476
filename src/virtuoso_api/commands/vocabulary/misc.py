"""``step-misc``: comments and JavaScript."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import step
from virtuoso_api.commands.vocabulary.spec import Arg, Group, Values
from virtuoso_api.commands.vocabulary.validate import NON_EMPTY_TEXT
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction

MISC = Group("step", "step-misc", "Add a comment or run JavaScript")


@MISC.define(
    "comment",
    args=(
        Arg("text", NON_EMPTY_TEXT, "the comment; the remaining arguments, joined by spaces", variadic=True),
    ),
    example=("comment", "Log in as the demo user"),
)
def comment(values: Values) -> ParsedStep:
    """Add a comment step (put ``--`` before the text if a word of it starts with ``-``)."""
    return step(StepAction.COMMENT, value=values.text("text"))


@MISC.define(
    "execute",
    args=(
        Arg("script", NON_EMPTY_TEXT, "JavaScript; the remaining arguments, joined by spaces", variadic=True),
    ),
    example=("execute", "window.scrollTo(0, 0)"),
)
def execute(values: Values) -> ParsedStep:
    """Run JavaScript in the page (``value`` and ``meta.script`` both hold the script)."""
    script = values.text("script")
    return step(StepAction.EXECUTE, value=script, meta={"explicit": True, "script": script})
