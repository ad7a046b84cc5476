"""``step-wait``: wait for an element or for a time."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, step
from virtuoso_api.commands.vocabulary.spec import Arg, Flag, Group, Values
from virtuoso_api.commands.vocabulary.validate import MILLISECONDS, SELECTOR
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, Target

WAIT = Group("step", "step-wait", "Wait for an element or a time")

DEFAULT_ELEMENT_TIMEOUT_MS = 20_000


def _wait(
    kind: str, *, target: Target | None = None, value: str = "", timeout_ms: int | None = None
) -> ParsedStep:
    meta: dict[str, object] = {"type": kind}
    if timeout_ms is not None:
        meta["timeoutMs"] = timeout_ms
    return step(StepAction.WAIT, target=target, value=value, meta=meta)


@WAIT.define(
    "element",
    args=(Arg("selector", SELECTOR, "the element to wait for"),),
    flags=(
        Flag("timeout", "how long to wait, 0-60000 ms", MILLISECONDS, default=DEFAULT_ELEMENT_TIMEOUT_MS),
    ),
    example=("element", "Success message", "--timeout", "5000"),
)
def wait_element(values: Values) -> ParsedStep:
    """Wait until an element is visible, up to --timeout ms (default 20000).

    One payload with or without --timeout: WAIT, ``kind: AI`` target, ``meta {type: ELEMENT_VISIBLE,
    timeoutMs}``, empty value. The original sent a different legacy payload (value "20000", empty
    meta) when --timeout was left out.
    """
    return _wait(
        "ELEMENT_VISIBLE",
        target=guess(values.text("selector"), ai=True),
        timeout_ms=values.number("timeout"),
    )


@WAIT.define(
    "time",
    args=(Arg("ms", MILLISECONDS, "milliseconds, 0-60000"),),
    example=("time", "1000"),
)
def wait_time(values: Values) -> ParsedStep:
    """Pause for a number of milliseconds (``value`` is the number; never a checkpoint id)."""
    return _wait("TIME", value=str(values.number("ms")))
