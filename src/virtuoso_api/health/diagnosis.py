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


def documents_check(backend: str, settings: Settings) -> str:
    if backend == "sqlite":
        return "DATA_DIR"
    return "FIRESTORE_EMULATOR_HOST" if settings.firestore_emulator_host else "GCP_PROJECT_ID"


def documents_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    check = documents_check(backend, settings)
    if isinstance(exc, TimeoutError):
        return Diagnosis(f"no answer within {waited:g}s", check)
    if isinstance(exc, BackendUnavailable):
        return Diagnosis("the store is unreachable or refused the connection", check)
    return Diagnosis(_SEE_LOG, check)


def tasks_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    if backend == "local":
        check = "DATA_DIR"
    else:
        check = "CLOUD_TASKS_EMULATOR_HOST" if settings.cloud_tasks_emulator_host else "GCP_PROJECT_ID"
    if isinstance(exc, TimeoutError):
        return Diagnosis(f"no answer within {waited:g}s", check)
    if isinstance(exc, Misconfigured):
        return Diagnosis(
            "the command queue is missing or not readable: create the queues (README)", "TASKS_QUEUE_PREFIX"
        )
    if isinstance(exc, BackendUnavailable):
        return Diagnosis("the task queue is unreachable or refused the connection", check)
    return Diagnosis(_SEE_LOG, check)


def events_failure(exc: Exception, backend: str, settings: Settings, *, waited: float) -> Diagnosis:
    if backend == "sqlite":
        check = "DATA_DIR"
    else:
        check = "PUBSUB_EMULATOR_HOST" if settings.pubsub_emulator_host else "GCP_PROJECT_ID"
    if isinstance(exc, TimeoutError):
        return Diagnosis(f"no answer within {waited:g}s", check)
    if isinstance(exc, BackendUnavailable):
        reason = "the events bus is unreachable or refused the connection; events wait in the outbox"
        return Diagnosis(reason, check)
    return Diagnosis(_SEE_LOG, check)
