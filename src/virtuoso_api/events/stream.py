"""Following the journal: a caller's events from a position on, then each new one as it comes.

The live stream (``GET /api/v1/events/stream``, ``virtuoso-api events tail``) reads the journal, not
the bus: a reader resuming with the id of the last event it saw gets every later one it may see, in
order, without gaps (``Last-Event-ID``). An id the journal does not know (older than its retention,
or from another instance's journal on Pub/Sub) cannot promise that: the reader is told so with a
:class:`Reset` and follows from the newest event on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Final

from virtuoso_api.infra.events import EventJournal, Logged

_PAGE: Final = 200
_IDLE_WAIT_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class Reset:
    """The position asked for is unknown here; what follows starts at the newest event."""

    unknown_id: str


async def follow(
    journal: EventJournal,
    *,
    owner: str | None,
    types: Collection[str] = (),
    after_id: str | None = None,
    from_start: bool = False,
) -> AsyncIterator[Logged | Reset]:
    """Events of ``owner`` (everyone's when ``None``) of the given types (every type when empty): after
    ``after_id`` when given, from the oldest kept with ``from_start``, else only new ones."""
    position: int | None = None
    if after_id is not None:
        position = await journal.position_of(after_id)
        if position is None:
            yield Reset(after_id)
    if position is None:
        position = 0 if from_start and after_id is None else await journal.last_position()
    where: dict[str, Collection[str]] = {}
    if owner is not None:
        where["owner"] = [owner]
    if types:
        where["type"] = sorted(types)
    while True:
        page = await journal.read(after=position, limit=_PAGE, where=where)
        for logged in page:
            yield logged
            position = logged.seq
        if len(page) < _PAGE:
            await journal.wait(_IDLE_WAIT_SECONDS)
