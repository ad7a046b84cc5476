"""How long and how often a remote call is tried: one budget type for every backend."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """Transient failures are tried again with jittered exponential backoff (``initial_backoff``
    doubling up to ``max_backoff``) while fewer than ``max_attempts`` were made and less than
    ``deadline_seconds`` have passed since the first began. Each attempt gets at most
    ``attempt_seconds``, which adapters also pass to their client as its own deadline, so an
    unreachable backend costs about ``deadline_seconds``, not a library's default minutes."""

    deadline_seconds: float = 6.0
    attempt_seconds: float = 4.0
    max_attempts: int = 10
    initial_backoff: float = 0.1
    max_backoff: float = 1.0

    def __post_init__(self) -> None:
        if min(self.deadline_seconds, self.attempt_seconds, self.initial_backoff) <= 0:
            raise ValueError("retry durations must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def once(cls, attempt_seconds: float) -> RetryBudget:
        """A single attempt: for calls that must never be repeated."""
        return cls(deadline_seconds=attempt_seconds, attempt_seconds=attempt_seconds, max_attempts=1)
