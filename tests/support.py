"""Helpers tests import (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from virtuoso_api.services import Services

MakeKey = Callable[..., Awaitable[str]]


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def published(services: Services, *types: str) -> list[dict[str, Any]]:
    """The events in the journal (the local log itself, without USE_PUBSUB), oldest first, of the
    given types (every type when none is given)."""
    journal = services.events.capability.journal
    found = await journal.read(after=0, limit=1000, where={"type": list(types)} if types else None)
    return [json.loads(logged.message.data) for logged in found]


async def published_once_there(
    services: Services, *types: str, count: int = 1, rounds: int = 200
) -> list[dict[str, Any]]:
    """:func:`published`, once ``count`` of them are there: a flow may publish just after what a test
    follows (a job's status) says it is done. Bounded in rounds, never in time."""
    for _ in range(rounds):
        found = await published(services, *types)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"only {len(found)} of {count} events of {types or 'any type'} were published")
