"""A bounded, clock-aware memo of recent values.

Not ``cachetools.TTLCache``: that drops an entry the moment it expires, and callers here need the stale
entry too (an API key checked a minute ago is still good enough while the store is down).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from virtuoso_api.kit.clock import Clock

K = TypeVar("K")
V = TypeVar("V")


class RecentValues(Generic[K, V]):
    def __init__(self, clock: Clock, *, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[K, tuple[V, datetime]] = OrderedDict()

    def get(self, key: K, *, max_age: timedelta) -> V | None:
        """The value if it was stored no longer than ``max_age`` ago."""
        entry = self._entries.get(key)
        if entry is None or self._clock.now() - entry[1] > max_age:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (value, self._clock.now())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
