"""The events domain as the root wires it: the publisher, the journal the live stream reads, and (on
Pub/Sub) the mirror that fills that journal from the topic.

Locally the journal *is* the bus, so there is nothing to mirror. On Pub/Sub each instance keeps its
own subscription, ``stream-<instance id>`` (the id is kept in the data folder, so a restarted
instance resumes its subscription and its journal stays gapless), and appends what it pulls to its
journal; the journal ignores an id it already holds, so redeliveries land once.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Collection
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from virtuoso_api.events.consumer import Consumer
from virtuoso_api.events.publisher import EventPublisher
from virtuoso_api.events.stream import Reset, follow
from virtuoso_api.infra.events import Events, Logged, Received, SubscriptionSpec
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.files import private_dir, private_file
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob

if TYPE_CHECKING:
    from virtuoso_api.infra.outbox import Outbox

_INSTANCE_FILE: Final = "instance-id"
_PRUNE_EVERY: Final = timedelta(hours=1)


def instance_id(data_dir: Path) -> str:
    """This installation's id, made once and kept in the data folder."""
    path = data_dir / _INSTANCE_FILE
    if path.exists():
        return path.read_text().strip()
    private_dir(data_dir)
    made = secrets.token_hex(6)
    private_file(path).write_text(made)
    return made


class EventsService:
    def __init__(self, events: Events, outbox: Outbox, *, clock: Clock, data_dir: Path) -> None:
        self.capability = events
        self.publisher = EventPublisher(events.bus, outbox, clock=clock)
        self.mirror: Consumer | None = None
        if events.mirrored:
            spec = SubscriptionSpec(f"stream-{instance_id(data_dir)}", ordered=True)
            self.mirror = Consumer(events.bus, spec, self._keep)

    async def _keep(self, item: Received) -> None:
        await self.capability.journal.publish([item.message])

    def cli_mirror(self) -> Consumer | None:
        """A mirror for a command-line reader beside (or without) a server: a subscription of its own,
        to delete when done. The journal ignores what the server's mirror appended already."""
        if self.mirror is None:
            return None
        spec = SubscriptionSpec(f"{self.mirror.spec.name}-cli-{secrets.token_hex(3)}", ordered=True)
        return Consumer(self.capability.bus, spec, self._keep)

    def needs(self) -> Needs:
        prune = getattr(self.capability.journal, "prune", None)
        periodic = (
            (PeriodicJob("prune the events journal", _PRUNE_EVERY.total_seconds(), prune),) if prune else ()
        )
        at_start = (self.mirror.run_forever,) if self.mirror is not None else ()
        return Needs(periodic=periodic, at_start=at_start)

    def follow(
        self,
        *,
        owner: str | None,
        types: Collection[str] = (),
        after_id: str | None = None,
        from_start: bool = False,
    ) -> AsyncIterator[Logged | Reset]:
        return follow(
            self.capability.journal, owner=owner, types=types, after_id=after_id, from_start=from_start
        )
