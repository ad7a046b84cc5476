"""The shared step builders: every step command makes its one ``ParsedStep`` through these.

The element hint is always a :class:`Clue` serialised by :meth:`Target.guess`, never formatted by
hand, so selectors with quotes or backslashes stay valid JSON.
"""

from __future__ import annotations

from collections.abc import Mapping

from virtuoso_api.commands.vocabulary.validate import Point
from virtuoso_api.virtuoso.steps import Clue, ElementPosition, ParsedStep, StepAction, Target


def step(
    action: StepAction,
    *,
    target: Target | None = None,
    value: str = "",
    variable: str | None = None,
    meta: Mapping[str, object] | None = None,
) -> ParsedStep:
    return ParsedStep(action=action, target=target, value=value, variable=variable, meta=dict(meta or {}))


def guess(
    selector: str,
    *,
    variable: str | None = None,
    position: ElementPosition | None = None,
    element_type: str | None = None,
    ai: bool = False,
) -> Target:
    """A one-selector target Virtuoso resolves by guessing (``type: GUESS``, or ``kind: AI``)."""
    clue = Clue(clue=selector, variable=variable, position=position, element_type=element_type)
    return Target.guess(clue, ai=ai)


def mouse(action: str, *, target: Target | None = None, point: Point | None = None) -> ParsedStep:
    """A MOUSE step; ``meta.action`` says which (MOVE, OFFSET, DOWN, UP, ENTER, OVER, ...)."""
    meta: dict[str, object] = {"action": action}
    if point is not None:
        meta |= {"x": point.x, "y": point.y}
    return step(StepAction.MOUSE, target=target, meta=meta)
