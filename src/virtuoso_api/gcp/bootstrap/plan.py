"""What every provisioner of ``virtuoso-api gcp bootstrap`` shares: the change it reports, its
interface, and one way to call Google through the resilience kit.

A provisioner owns one capability's resources (Cloud Tasks queues, Pub/Sub topics and subscriptions,
secrets, Firestore indexes and TTL policies, Cloud Storage buckets). It reads what exists, and
creates or updates only what differs from what the service needs, so a second run reports every
resource as it is and changes nothing. With ``dry_run`` it reads and reports, and changes nothing.
:func:`reconcile` is that decision for one resource read on its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol, TypeVar

from virtuoso_api.errors import Misconfigured
from virtuoso_api.resilience import RemoteCall

T = TypeVar("T")
R = TypeVar("R")
U = TypeVar("U")


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    KEEP = "keep"  # exists as the service needs it
    MANUAL = "manual"  # what bootstrap cannot do here; ``detail`` says what to do


@dataclass(frozen=True, slots=True)
class Change:
    capability: str
    kind: str
    name: str
    action: Action
    detail: str = ""

    def line(self, *, dry_run: bool) -> str:
        verb = _DRY if dry_run else _DONE
        text = f"{verb[self.action]:<12} {self.kind} {self.name}"
        return f"{text}: {self.detail}" if self.detail else text


_DONE: Final = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.KEEP: "exists",
    Action.MANUAL: "to do",
}
_DRY: Final = {
    Action.CREATE: "would create",
    Action.UPDATE: "would update",
    Action.KEEP: "exists",
    Action.MANUAL: "to do",
}


async def reconcile(
    capability: str,
    kind: str,
    name: str,
    *,
    found: R | None,
    create: Callable[[], Awaitable[object]],
    detail: str,
    dry_run: bool,
    differs: Callable[[R], U | None] | None = None,
    update: Callable[[R, U], Awaitable[object]] | None = None,
) -> Change:
    """One resource brought to what the service needs: ``create`` when it was not ``found``; else
    ``update(found, pending)`` when ``differs(found)`` returns something pending (the request or the
    fields to patch), else kept as it is (also when no ``differs`` is given: nothing of it is
    managed). With ``dry_run`` only the change is reported. A create or an update reports ``detail``,
    what the resource is made to be."""
    if found is None:
        if not dry_run:
            await create()
        return Change(capability, kind, name, Action.CREATE, detail)
    pending = differs(found) if differs is not None else None
    if pending is None:
        return Change(capability, kind, name, Action.KEEP)
    if not dry_run:
        assert update is not None, "a differs needs its update"
        await update(found, pending)
    return Change(capability, kind, name, Action.UPDATE, detail)


class Provisioner(Protocol):
    """One capability's resources. ``provision`` reports one :class:`Change` per resource, in the
    order it handled them; it raises :class:`~virtuoso_api.errors.VirtuosoApiError` subclasses
    (``Misconfigured`` for a refusal such as a missing permission, ``BackendUnavailable`` for an
    outage) and leaves what it already made in place: running again picks up from there."""

    capability: str

    async def provision(self, *, dry_run: bool) -> list[Change]: ...

    async def aclose(self) -> None: ...


def transient(exc: BaseException) -> bool:
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions

    return isinstance(
        exc,
        TimeoutError
        | api_exceptions.ServiceUnavailable
        | api_exceptions.DeadlineExceeded
        | api_exceptions.InternalServerError
        | api_exceptions.ResourceExhausted
        | api_exceptions.Aborted
        | auth_exceptions.TransportError,
    )


async def call(
    remote: RemoteCall,
    attempt: Callable[[float], Awaitable[T]],
    *,
    what: str,
    transient: Callable[[BaseException], bool] = transient,
) -> T:
    """One Google call through the resilience kit: transient failures retried within the budget; a
    refusal (no permission, no credentials, an API not enabled) is ``Misconfigured`` naming the call.
    The HTTP clients' refusals (Cloud Storage's) are the parents of the gRPC ones listed beside them."""
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions

    try:
        return await remote(attempt, what=what, transient=transient)
    except (
        api_exceptions.Forbidden,  # PermissionDenied's parent: HTTP 403
        api_exceptions.Unauthorized,  # Unauthenticated's parent: HTTP 401
        api_exceptions.FailedPrecondition,
        api_exceptions.BadRequest,  # InvalidArgument's parent: HTTP 400
        api_exceptions.MethodNotImplemented,
    ) as exc:
        raise Misconfigured(f"{what}: Google refused ({type(exc).__name__}: {exc.message})") from exc
    except auth_exceptions.DefaultCredentialsError as exc:
        raise Misconfigured(
            f"{what}: no Google credentials (run `gcloud auth application-default login`)"
        ) from exc
