"""``step-dialog``: answer the browser's alert, confirm and prompt dialogs."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import step
from virtuoso_api.commands.vocabulary.spec import Arg, Flag, Group, Values
from virtuoso_api.commands.vocabulary.validate import TEXT
from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction

DIALOG = Group("step", "step-dialog", "Answer alert, confirm and prompt dialogs")


def _dismiss(kind: str, *, answer: str | None = None, value: str = "") -> ParsedStep:
    meta: dict[str, object] = {"kind": "DISMISS", "type": kind}
    if answer is not None:
        meta["action"] = answer
    return step(StepAction.DISMISS, value=value, meta=meta)


@DIALOG.define("dismiss-alert", example=("dismiss-alert",))
def dismiss_alert(values: Values) -> ParsedStep:
    """Close an alert dialog."""
    del values
    return _dismiss("ALERT")


@DIALOG.define(
    "dismiss-confirm",
    flags=(Flag("accept", "press OK"), Flag("reject", "press Cancel (the default)")),
    example=("dismiss-confirm", "--accept"),
)
def dismiss_confirm(values: Values) -> ParsedStep:
    """Answer a confirm dialog: OK with --accept, else Cancel."""
    if values.switch("accept") and values.switch("reject"):
        raise InvalidInput(values.field("reject"), "give --accept or --reject, not both")
    return _dismiss("CONFIRM", answer="OK" if values.switch("accept") else "CANCEL")


@DIALOG.define("dismiss-prompt", example=("dismiss-prompt",))
def dismiss_prompt(values: Values) -> ParsedStep:
    """Accept a prompt dialog without typing anything."""
    del values
    return _dismiss("PROMPT", answer="OK")


@DIALOG.define(
    "dismiss-prompt-with-text",
    args=(Arg("text", TEXT, "the text to answer with"),),
    example=("dismiss-prompt-with-text", "John Smith"),
)
def dismiss_prompt_with_text(values: Values) -> ParsedStep:
    """Type text into a prompt dialog and accept it."""
    return _dismiss("PROMPT", answer="OK", value=values.text("text"))
