"""Which journeys a caller means: by id, or by title or name (as SpotQA's client picks them)."""

from __future__ import annotations

from collections.abc import Sequence

from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.models import Journey

_LISTED = 10


def resolve_journeys(refs: Sequence[int | str], journeys: Sequence[Journey], *, goal_id: int) -> list[int]:
    """The ids of the journeys ``refs`` names (all of them when ``refs`` is empty), in the order
    given, each once. A number is an id first; otherwise a title or name, which must be unique."""
    if not refs:
        return [journey.id for journey in journeys if not journey.archived]
    by_id = {journey.id: journey for journey in journeys}
    chosen: list[int] = []
    for index, ref in enumerate(refs):
        journey_id = _resolve(ref, journeys, by_id, goal_id=goal_id, field=f"journeys[{index}]")
        if journey_id not in chosen:
            chosen.append(journey_id)
    return chosen


def _resolve(
    ref: int | str, journeys: Sequence[Journey], by_id: dict[int, Journey], *, goal_id: int, field: str
) -> int:
    text = str(ref).strip()
    if text.isdigit() and int(text) in by_id:
        return int(text)
    named = [journey for journey in journeys if text in (journey.title, journey.name)]
    if len(named) == 1:
        return named[0].id
    if len(named) > 1:
        ids = ", ".join(str(journey.id) for journey in named)
        raise InvalidInput(field, f"{text!r} names several journeys of goal {goal_id} ({ids}): give the id")
    known = ", ".join(f"{journey.title or journey.name!r} ({journey.id})" for journey in journeys[:_LISTED])
    more = f" and {len(journeys) - _LISTED} more" if len(journeys) > _LISTED else ""
    raise InvalidInput(field, f"no journey {text!r} in goal {goal_id}; it has {known or 'none'}{more}")
