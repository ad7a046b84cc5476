"""A circuit breaker: after a backend was unavailable, answer at once for a cooldown.

Written here rather than taken from ``purgatory`` or ``pybreaker``: only "unavailable" may open the
circuit (a missing document or a refused request is an answer, not an outage), the cooldown runs on
the service's :class:`~virtuoso_api.kit.clock.Clock` so tests move time instead of sleeping, and the
error it raises is the one callers already handle (503 with ``Retry-After``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.kit.clock import Clock


class CircuitBreaker:
    """Opens after ``threshold`` consecutive unavailable outcomes, for ``cooldown``; the first call
    after the cooldown tries for real (and closes it again on success)."""

    def __init__(
        self, backend: str, *, clock: Clock, cooldown: timedelta = timedelta(seconds=5), threshold: int = 1
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.backend = backend
        self._clock = clock
        self._cooldown = cooldown
        self._threshold = threshold
        self._failures = 0
        self._open_until: datetime | None = None
        self._reason = ""
        self.opened = 0  # how many times it opened: a counter tests and metrics can read

    @property
    def is_open(self) -> bool:
        return self._open_until is not None and self._clock.now() < self._open_until

    def check(self) -> None:
        """Raise the backend's :class:`BackendUnavailable` while the circuit is open."""
        if not self.is_open:
            return
        assert self._open_until is not None
        wait = max(1, round((self._open_until - self._clock.now()).total_seconds()))
        raise BackendUnavailable(
            self.backend, f"{self._reason} (not retried for {wait}s)", retry_after_seconds=wait
        )

    def succeeded(self) -> None:
        self._failures = 0
        self._open_until = None

    def failed(self, error: BackendUnavailable) -> None:
        self._failures += 1
        self._reason = error.message.removeprefix(f"{self.backend} is unavailable: ")
        if self._failures >= self._threshold:
            if not self.is_open:
                self.opened += 1
            self._open_until = self._clock.now() + self._cooldown
