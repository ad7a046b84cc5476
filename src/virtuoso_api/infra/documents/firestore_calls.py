"""How the Firestore adapter talks to Firestore: the resilience kit's budget and breaker, errors mapped once.

The original retried every ``GoogleAPIError`` for five minutes, so a ``NotFound`` reached its ``except``
clause as a ``RetryError`` after 300 s (``reference/original-system.md`` §5). Here only transient codes
are retried, within a budget of seconds (``REMOTE_RETRY_DEADLINE_SECONDS``), each attempt under its own
deadline. Every call passes ``retry=None`` so the library's default retries (up to 300 s for queries)
cannot stack under ours.

Imported only by the Firestore adapter, itself imported only when ``USE_FIRESTORE`` is on, so the
package works without the ``gcp`` extra.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeVar

from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from virtuoso_api.resilience import RemoteCall

if TYPE_CHECKING:
    from google.cloud.firestore_v1.async_client import AsyncClient

T = TypeVar("T")

BACKEND: Final = "firestore"

# Worth another attempt: the service said "not now", or never answered.
_TRANSIENT: Final = (
    TimeoutError,  # our own per-attempt deadline
    api_exceptions.ServiceUnavailable,  # UNAVAILABLE, also "connection refused"
    api_exceptions.DeadlineExceeded,
    api_exceptions.Aborted,  # contention; a subclass of Conflict, so it is caught first
    api_exceptions.ResourceExhausted,
    api_exceptions.InternalServerError,
    auth_exceptions.TransportError,  # a token refresh that could not reach the auth server
)


class Missing(Exception):
    """Firestore said NOT_FOUND (an update or guarded delete of a document that is not there)."""


class AlreadyThere(Exception):
    """Firestore said ALREADY_EXISTS (``create`` of an existing document)."""


class Stale(Exception):
    """A write guarded by ``last_update_time`` failed: someone wrote the document in between."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT)


async def call(
    remote: RemoteCall,
    attempt: Callable[[float], Awaitable[T]],
    *,
    what: str,
    guarded: bool = False,
) -> T:
    """Run ``attempt(timeout)`` through the resilience kit (retries within the budget, the breaker).

    Raises :class:`Missing`, :class:`AlreadyThere` and (for ``guarded`` writes) :class:`Stale` for the
    call site to turn into the port's errors; ``ValueError`` when Firestore refuses the request as
    invalid; :class:`BackendUnavailable` when transient failures outlast the budget. Anything else
    (permission denied, a missing index, ...) is not retried and surfaces as the library raised it.
    """
    try:
        return await remote(attempt, what=what, transient=is_transient)
    except api_exceptions.NotFound as exc:
        raise Missing(exc.message) from exc
    except api_exceptions.Conflict as exc:  # AlreadyExists and plain Conflict; Aborted is transient
        raise AlreadyThere(exc.message) from exc
    except api_exceptions.FailedPrecondition as exc:
        if not guarded:
            raise
        raise Stale(exc.message) from exc
    except api_exceptions.InvalidArgument as exc:
        raise ValueError(f"firestore refused {what}: {exc.message}") from exc


async def contention_pause(attempt: int) -> None:
    """Before a read-modify-write starts again after losing to another writer: a random pause that
    grows with each loss, so writers that collided once are unlikely to collide again. The first
    attempt (0) does not wait."""
    if attempt:
        await asyncio.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))


def make_client(project: str, *, emulator_host: str | None) -> AsyncClient:
    """An ``AsyncClient`` for ``project``: the emulator at ``emulator_host`` when given, else Google's
    endpoint with Application Default Credentials.

    https://cloud.google.com/python/docs/reference/firestore/latest/google.cloud.firestore_v1.async_client.AsyncClient
    """
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.firestore_v1.async_client import AsyncClient

    if emulator_host:
        client = AsyncClient(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    else:
        credentials, _ = google.auth.default(scopes=AsyncClient.SCOPE)
        client = AsyncClient(project=project, credentials=credentials)
    # The library looks for FIRESTORE_EMULATOR_HOST in os.environ only, in its constructor, while
    # Settings may have it from .env alone; so the host is set the way the constructor would have set
    # it, before the lazily created channel exists. Settings is the one source either way.
    client._emulator_host = emulator_host or None
    return client
