"""What ``/health/ready`` says about a failing backend: what failed and which setting to check.

``/health/ready`` answers anyone, so it never carries an exception's text: that text comes from the
outbound side (httpx, h11, Google's clients, Virtuoso's own messages) and may quote a secret. The
reason is chosen from the error's class and numeric attributes only; the text goes to the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable, Misconfigured
from virtuoso_api.virtuoso.errors import (
    VirtuosoAuthFailed,
    VirtuosoNotConfigured,
    VirtuosoNotFound,
    VirtuosoProtocolError,
    VirtuosoRejected,
    VirtuosoUnavailable,
)

_SEE_LOG = "the check failed (the service log has the error)"


@dataclass(frozen=True)
class Diagnosis:
    reason: str
    check: str


def virtuoso_failure(exc: Exception, *, waited: float) -> Diagnosis:
    url = "VIRTUOSO_BASE_URL"
    if isinstance(exc, TimeoutError):
        return Diagnosis(f"no answer within {waited:g}s", url)
    if isinstance(exc, VirtuosoNotConfigured):
        return Diagnosis(exc.reason, exc.check)
    if isinstance(exc, VirtuosoAuthFailed):
        return Diagnosis("Virtuoso refused the token", "VIRTUOSO_API_TOKEN")
    if isinstance(exc, VirtuosoNotFound):
        return Diagnosis("Virtuoso answered 404: the URL is not Virtuoso's API", url)
    if isinstance(exc, VirtuosoUnavailable):
        if exc.upstream_status is not None:
            return Diagnosis(f"Virtuoso answered {exc.upstream_status}", url)
        if not exc.reached_server:
            return Diagnosis("connection failed", url)
        return Diagnosis("no usable answer: the connection broke or timed out", url)
    if isinstance(exc, VirtuosoRejected):
        return Diagnosis(f"Virtuoso refused the check ({exc.upstream_status})", url)
    if isinstance(exc, VirtuosoProtocolError):
        return Diagnosis("Virtuoso's answer could not be read", url)
    if isinstance(exc, BackendUnavailable) and exc.backend == "secret_manager":
        return Diagnosis("its credentials could not be read from Secret Manager", "USE_SECRET_MANAGER")
    if isinstance(exc, BackendUnavailable):  # the circuit breaker, or retries that ran out of time
        return Diagnosis("recent calls failed or timed out; not asked again for a few seconds", url)
    return Diagnosis(_SEE_LOG, url)


def _check(*, local: bool, emulator_host: str | None, emulator_setting: str) -> str:
    """The setting to look at: the data folder for a local backend; for a Google one, its emulator's
    host when one is set, else the project."""
    if local:
        return "DATA_DIR"
    return emulator_setting if emulator_host else "GCP_PROJECT_ID"


def _remote_failure(exc: Exception, check: str, unreachable: str, *, waited: float) -> Diagnosis:
    if isinstance(exc, TimeoutError):
        return Diagnosis(f"no answer within {waited:g}s", check)
    if isinstance(exc, BackendUnavailable):
        return Diagnosis(unreachable, check)
    return Diagnosis(_SEE_LOG, check)


def documents_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    check = _check(
        local=backend == "sqlite",
        emulator_host=settings.firestore_emulator_host,
        emulator_setting="FIRESTORE_EMULATOR_HOST",
    )
    return _remote_failure(exc, check, "the store is unreachable or refused the connection", waited=waited)


def tasks_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    if isinstance(exc, Misconfigured):
        return Diagnosis(
            "the command queue is missing or not readable: create the queues (README)", "TASKS_QUEUE_PREFIX"
        )
    check = _check(
        local=backend == "local",
        emulator_host=settings.cloud_tasks_emulator_host,
        emulator_setting="CLOUD_TASKS_EMULATOR_HOST",
    )
    return _remote_failure(
        exc, check, "the task queue is unreachable or refused the connection", waited=waited
    )


def events_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    check = _check(
        local=backend == "sqlite",
        emulator_host=settings.pubsub_emulator_host,
        emulator_setting="PUBSUB_EMULATOR_HOST",
    )
    unreachable = "the events bus is unreachable or refused the connection; events wait in the outbox"
    return _remote_failure(exc, check, unreachable, waited=waited)


def blobs_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    if isinstance(exc, Misconfigured):
        return Diagnosis(
            "the results bucket is missing: create the buckets (README)", "STORAGE_BUCKET_PREFIX"
        )
    check = _check(
        local=backend == "local_blobs",
        emulator_host=settings.storage_emulator_host,
        emulator_setting="STORAGE_EMULATOR_HOST",
    )
    unreachable = "Cloud Storage is unreachable or refused the connection; blobs wait in the outbox"
    return _remote_failure(exc, check, unreachable, waited=waited)
