"""The secrets port over Google Secret Manager (``USE_SECRET_MANAGER``), through the official client.

Transport: REST (``transport="rest"``), in production and against the emulator alike. The emulator
the tests use (drongo, ``reference/emulators.md`` §4) speaks only HTTP/1.1 REST, and a secret is read
once per ``SECRET_CACHE_TTL_SECONDS``, so gRPC's streaming and connection reuse would buy nothing here
while leaving the tested path different from the deployed one. The client is synchronous; each call
runs in a worker thread, off the event loop, under the resilience kit (``REMOTE_*`` budget, breaker)
with the library's own retries switched off (``retry=None``) so they cannot stack under ours.

Retries: reads and state changes are retried on transient failures; ``add_version`` only when the
request never reached Secret Manager (a refused connection, a 503 or 429 answer), because a version
added by an attempt whose answer was lost would be added twice by the next.

Integrity: each version is sent with its CRC32C, and a payload read back with one is checked against
it (Secret Manager returns it when it was given; drongo returns none).

Imported only when ``USE_SECRET_MANAGER`` is on, so the package works without the ``gcp`` extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import google_crc32c
import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from urllib3.exceptions import NewConnectionError

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.secrets.port import (
    LATEST,
    AccessedVersion,
    SecretAccessDenied,
    SecretAlreadyExists,
    SecretNotFound,
    SecretUnreadable,
    SecretVersionUnavailable,
    VersionInfo,
    VersionRef,
    VersionState,
    check_payload,
    check_secret_id,
    check_version,
)
from virtuoso_api.resilience import RemoteCall

if TYPE_CHECKING:
    from google.cloud.secretmanager_v1 import SecretManagerServiceClient

    from virtuoso_api.config import Settings

BACKEND: Final = "secret_manager"

_TRANSIENT: Final = (
    TimeoutError,  # our own per-attempt deadline
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.InternalServerError,
    api_exceptions.ResourceExhausted,
    api_exceptions.TooManyRequests,
    api_exceptions.BadGateway,
    api_exceptions.GatewayTimeout,
    auth_exceptions.TransportError,  # a token refresh that could not reach the auth server
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)
_STATES: Final = {1: VersionState.ENABLED, 2: VersionState.DISABLED, 3: VersionState.DESTROYED}


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT)


def never_sent(exc: BaseException) -> bool:
    """Failed before Secret Manager acted on it: no connection, or an answer that says it did nothing."""
    if isinstance(exc, api_exceptions.ServiceUnavailable | api_exceptions.TooManyRequests):
        return True
    if isinstance(exc, api_exceptions.ResourceExhausted | requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        return isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)
    return False


def make_client(*, emulator_host: str | None) -> SecretManagerServiceClient:
    """A REST client: the emulator at ``emulator_host`` (anonymous credentials) when given, else
    Google's endpoint with Application Default Credentials."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.secretmanager_v1 import SecretManagerServiceClient

    if emulator_host:
        return SecretManagerServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://{emulator_host}"),
        )
    return SecretManagerServiceClient(transport="rest")


class SecretManagerStore:
    """:class:`~virtuoso_api.infra.secrets.port.SecretStore` over Google Secret Manager."""

    backend = BACKEND

    def __init__(self, client: SecretManagerServiceClient, *, project: str, remote: RemoteCall) -> None:
        self._client = client
        self._parent = f"projects/{project}"
        self._remote = remote

    @classmethod
    def from_settings(cls, settings: Settings, *, remote: RemoteCall) -> SecretManagerStore:
        assert settings.gcp_project_id is not None  # Settings refuses a USE_* flag without it
        client = make_client(emulator_host=settings.secret_manager_emulator_host)
        return cls(client, project=settings.gcp_project_id, remote=remote)

    def _path(self, secret_id: str) -> str:
        return f"{self._parent}/secrets/{check_secret_id(secret_id)}"

    async def create(self, secret_id: str, *, labels: dict[str, str]) -> None:
        request = {
            "parent": self._parent,
            "secret_id": check_secret_id(secret_id),
            "secret": {"replication": {"automatic": {}}, "labels": labels},
        }
        await self._call(self._client.create_secret, request, what=f"creating secret {secret_id}")

    async def add_version(self, secret_id: str, data: bytes) -> VersionInfo:
        check_payload(data)
        request = {
            "parent": self._path(secret_id),
            "payload": {"data": data, "data_crc32c": google_crc32c.value(data)},
        }
        version = await self._call(
            self._client.add_secret_version,
            request,
            what=f"adding a version to secret {secret_id}",
            transient=never_sent,
        )
        return _info(version)

    async def access(self, secret_id: str, version: VersionRef = LATEST) -> AccessedVersion:
        check_version(version)
        request = {"name": f"{self._path(secret_id)}/versions/{version}"}
        response = await self._call(
            self._client.access_secret_version, request, what=f"reading secret {secret_id}"
        )
        data: bytes = response.payload.data
        if "data_crc32c" in response.payload and google_crc32c.value(data) != response.payload.data_crc32c:
            raise SecretUnreadable(f"secret {secret_id} arrived corrupted (CRC32C mismatch)")
        return AccessedVersion(_number(response.name), data)

    async def versions(self, secret_id: str) -> list[VersionInfo]:
        request = {"parent": self._path(secret_id), "page_size": 100}

        def every(**kwargs: Any) -> list[Any]:
            # The pager fetches the next pages lazily, so all of them are read inside the attempt.
            return list(self._client.list_secret_versions(**kwargs))

        listed = await self._call(every, request, what=f"listing versions of secret {secret_id}")
        # Secret Manager lists newest first, drongo oldest first: ordered here either way.
        return sorted((_info(v) for v in listed), key=lambda info: info.number, reverse=True)

    async def disable(self, secret_id: str, number: int) -> None:
        await self._change(self._client.disable_secret_version, secret_id, number, VersionState.DISABLED)

    async def enable(self, secret_id: str, number: int) -> None:
        await self._change(self._client.enable_secret_version, secret_id, number, VersionState.ENABLED)

    async def destroy(self, secret_id: str, number: int) -> None:
        await self._change(self._client.destroy_secret_version, secret_id, number, VersionState.DESTROYED)

    async def delete(self, secret_id: str) -> None:
        request = {"name": self._path(secret_id)}
        await self._call(self._client.delete_secret, request, what=f"deleting secret {secret_id}")

    async def close(self) -> None:
        await asyncio.to_thread(self._client.transport.close)

    async def _change(
        self, method: Callable[..., Any], secret_id: str, number: int, to: VersionState
    ) -> None:
        """The port's rules, whatever the server does with them: a version already in ``to`` is left
        as it is (Secret Manager refuses to destroy a destroyed version), and a destroyed one is never
        brought back (drongo would enable it)."""
        check_version(number)
        name = f"{self._path(secret_id)}/versions/{number}"
        current = _info(
            await self._call(self._client.get_secret_version, {"name": name}, what=f"reading {name}")
        )
        if current.state is to:
            return
        if current.state is VersionState.DESTROYED:
            raise SecretVersionUnavailable(f"version {number} of secret {secret_id} is destroyed")
        await self._call(method, {"name": name}, what=f"making version {number} of secret {secret_id} {to}")

    async def _call(
        self,
        method: Callable[..., Any],
        request: dict[str, Any],
        *,
        what: str,
        transient: Callable[[BaseException], bool] = is_transient,
    ) -> Any:
        async def attempt(timeout: float) -> Any:
            return await asyncio.to_thread(method, request=request, retry=None, timeout=timeout)

        try:
            return await self._remote(attempt, what=what, transient=transient)
        except BackendUnavailable:
            raise
        except api_exceptions.NotFound as exc:
            raise SecretNotFound(f"{_subject(request)} does not exist in Secret Manager") from exc
        except api_exceptions.Conflict as exc:  # ALREADY_EXISTS
            raise SecretAlreadyExists(f"{_subject(request)} already exists in Secret Manager") from exc
        except (api_exceptions.FailedPrecondition, api_exceptions.BadRequest) as exc:
            # Reading or changing a version in a state that forbids it: FAILED_PRECONDITION from
            # Secret Manager, a plain 400 from drongo. Ids are checked before sending, so a 400 here
            # is about the version's state.
            raise SecretVersionUnavailable(f"{what}: {exc.message}") from exc
        except (api_exceptions.PermissionDenied, api_exceptions.Unauthenticated) as exc:
            raise SecretAccessDenied(
                f"Secret Manager refused {what}: the service's identity lacks a role on the secret "
                "(see README: Secret Manager, IAM roles)"
            ) from exc
        except Exception as exc:
            if is_transient(exc):  # not retried (add_version): what it did is unknown
                raise BackendUnavailable(BACKEND, f"{what}: {type(exc).__name__}") from exc
            raise


def _subject(request: dict[str, Any]) -> str:
    name = request.get("name") or request.get("parent", "")
    secret_id = request.get("secret_id")
    return f"secret {secret_id}" if secret_id else str(name).split("/", 2)[-1]


def _number(name: str) -> int:
    return int(name.rsplit("/", 1)[-1])


def _info(version: Any) -> VersionInfo:
    created: datetime = version.create_time
    return VersionInfo(
        _number(version.name),
        _STATES.get(int(version.state), VersionState.DISABLED),
        created.astimezone(UTC),
    )
