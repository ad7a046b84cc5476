"""The resilience kit: one retry policy and one circuit breaker for every remote call.

Every adapter that talks to something remote (Virtuoso, Firestore, and the coming Cloud Tasks,
Pub/Sub, Secret Manager and Storage clients) sends each call through a :class:`RemoteCall`::

    remote = RemoteCall("firestore", budget=RetryBudget(deadline_seconds=6, attempt_seconds=4),
                        breaker=CircuitBreaker("firestore", clock=clock))
    snapshot = await remote(lambda timeout: ref.get(timeout=timeout), what="reading a/b",
                            transient=is_transient)

The adapter says which of its client's exceptions are worth another attempt; the kit retries those
within the budget, turns an exhausted budget into :class:`~virtuoso_api.errors.BackendUnavailable`,
and opens the breaker so the next calls fail at once instead of waiting out the budget again.
"""

from virtuoso_api.resilience.breaker import CircuitBreaker
from virtuoso_api.resilience.remote import RemoteCall
from virtuoso_api.resilience.retry import RetryBudget

__all__ = ["CircuitBreaker", "RemoteCall", "RetryBudget"]
