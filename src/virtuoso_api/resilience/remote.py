"""``RemoteCall``: the budget and the breaker applied to one call, the same way for every backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.kit.clock import Clock
from virtuoso_api.resilience.breaker import CircuitBreaker
from virtuoso_api.resilience.retry import RetryBudget

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: Time for a client to turn its own deadline into its own error before we cancel the attempt.
_SLACK_SECONDS = 0.5


class RemoteCall:
    """Runs ``attempt(timeout)`` under a :class:`RetryBudget`, behind a :class:`CircuitBreaker`.

    ``transient(exc)`` says whether an exception is worth another attempt (our own per-attempt
    deadline raises ``TimeoutError``; include it where a repeat is safe); ``retry=False`` makes one
    attempt only. When a transient failure or our deadline is the last word, it becomes a
    :class:`BackendUnavailable` naming the backend and ``what`` was being done; a
    ``BackendUnavailable`` the attempt raised itself passes through; both open the breaker. Anything
    else propagates as the attempt raised it, for the adapter to map.
    """

    def __init__(
        self,
        backend: str,
        *,
        budget: RetryBudget,
        breaker: CircuitBreaker,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.backend = backend
        self.budget = budget
        self.breaker = breaker
        self._sleep = sleep  # tests pass one that records the pauses instead of waiting them out

    @classmethod
    def from_settings(cls, backend: str, settings: Settings, *, clock: Clock) -> RemoteCall:
        """The calls of a cloud backend (Firestore, Cloud Tasks...): the ``REMOTE_*`` budget and a
        breaker open for ``BREAKER_COOLDOWN_SECONDS`` on ``clock``."""
        return cls(
            backend,
            budget=RetryBudget(
                deadline_seconds=settings.remote_retry_deadline_seconds,
                attempt_seconds=settings.remote_attempt_timeout_seconds,
            ),
            breaker=CircuitBreaker(
                backend, clock=clock, cooldown=timedelta(seconds=settings.breaker_cooldown_seconds)
            ),
        )

    async def __call__(
        self,
        attempt: Callable[[float], Awaitable[T]],
        *,
        what: str,
        transient: Callable[[BaseException], bool],
        retry: bool = True,
    ) -> T:
        self.breaker.check()
        try:
            # The first attempt runs without tenacity: building a retrier per call costs more than
            # the call itself on the hot path, and most calls succeed the first time.
            result = await self._attempt(attempt, self.budget.attempt_seconds)
        except Exception as exc:
            if retry and self.budget.max_attempts > 1 and transient(exc):
                result = await self._retry(attempt, what, transient, exc)
            else:
                self._settle(what, exc, transient)
                raise
        self.breaker.succeeded()
        return result

    async def _attempt(self, attempt: Callable[[float], Awaitable[T]], budget: float) -> T:
        async with asyncio.timeout(budget + _SLACK_SECONDS):
            return await attempt(budget)

    async def _retry(
        self,
        attempt: Callable[[float], Awaitable[T]],
        what: str,
        transient: Callable[[BaseException], bool],
        first: BaseException,
    ) -> T:
        loop = asyncio.get_running_loop()
        started = loop.time()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.budget.max_attempts - 1)
            | stop_after_delay(self.budget.deadline_seconds),
            # Jittered, so that instances that failed together spread out.
            wait=wait_random_exponential(multiplier=self.budget.initial_backoff, max=self.budget.max_backoff),
            retry=retry_if_exception(transient),
            before_sleep=_log_retry(self.backend, what),
            reraise=True,
            sleep=self._sleep,
        )
        logger.warning("%s: %s failed (%s); trying again", self.backend, what, describe(first))
        await self._sleep(self.budget.initial_backoff)
        try:
            async for round_ in retrying:
                with round_:
                    left = self.budget.deadline_seconds - (loop.time() - started)
                    return await self._attempt(attempt, max(0.05, min(self.budget.attempt_seconds, left)))
        except Exception as exc:
            self._settle(what, exc, transient)
            raise
        raise AssertionError("tenacity stopped without an outcome")  # reraise=True makes this unreachable

    def _settle(self, what: str, exc: Exception, transient: Callable[[BaseException], bool]) -> None:
        """Record a final failure with the breaker; raise :class:`BackendUnavailable` in place of a
        transient failure (or our own deadline), or return to let ``exc`` propagate."""
        if isinstance(exc, BackendUnavailable):
            self.breaker.failed(exc)
            return
        if transient(exc) or isinstance(exc, TimeoutError):
            error = BackendUnavailable(self.backend, f"{what}: {describe(exc)}")
            self.breaker.failed(error)
            raise error from exc
        self.breaker.succeeded()  # the backend answered, if only to refuse


def describe(exc: BaseException) -> str:
    """A short, class-based reason; the exception's text may hold anything, so it is cut short."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {text}"[:300]


def _log_retry(backend: str, what: str) -> Callable[[RetryCallState], None]:
    def log(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "%s: %s failed again (%s); trying again", backend, what, describe(error) if error else "?"
        )

    return log
