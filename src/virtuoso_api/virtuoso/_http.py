"""One request to Virtuoso: headers, the envelope, errors and the retry rule.

Retry rule: a request is sent again only when doing so cannot create a second object. GET, PUT and
DELETE are retried on :class:`VirtuosoUnavailable`; a POST only when the connection was never made
(the original retried every POST and could add a step twice).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx

from virtuoso_api.kit.clock import Clock, SystemClock
from virtuoso_api.kit.redact import redact
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget
from virtuoso_api.resilience.remote import describe
from virtuoso_api.virtuoso._envelope import Envelope, parse_envelope, read_error
from virtuoso_api.virtuoso._transport import (
    AiohttpTransport,
    Answer,
    HttpxTransport,
    Transport,
    TransportFailed,
)
from virtuoso_api.virtuoso.errors import (
    VirtuosoAuthFailed,
    VirtuosoNotConfigured,
    VirtuosoNotFound,
    VirtuosoProtocolError,
    VirtuosoRejected,
    VirtuosoUnavailable,
)
from virtuoso_api.virtuoso.tokens import TokenSource

logger = logging.getLogger(__name__)

_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
_SNIPPET = 300


BACKEND = "virtuoso"


def virtuoso_remote(
    *,
    clock: Clock | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    cooldown_seconds: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> RemoteCall:
    """The resilience kit as Virtuoso needs it: ``attempts`` tries of safe requests (0.5 s, then 1 s
    apart: enough for a blip; a longer outage should reach the caller quickly as a 503), and a
    breaker that opens after three outages in a row, so one slow answer does not stop every caller.
    The kit's own deadline sits just past httpx's, which fires first and says which phase timed out."""
    budget = RetryBudget(
        deadline_seconds=timeout_seconds * attempts,
        attempt_seconds=timeout_seconds + 1.0,
        max_attempts=attempts,
        initial_backoff=0.5,
        max_backoff=4.0,
    )
    breaker = CircuitBreaker(
        BACKEND, clock=clock or SystemClock(), cooldown=timedelta(seconds=cooldown_seconds), threshold=3
    )
    return RemoteCall(BACKEND, budget=budget, breaker=breaker, sleep=sleep)


def build_virtuoso_http(base_url: str, timeout: float = 30.0) -> AiohttpTransport:
    """The transport for :class:`VirtuosoClient` to reach Virtuoso at ``base_url`` over the network
    (aiohttp: see :mod:`virtuoso_api.virtuoso._transport` for why); the caller owns it and closes it
    (``aclose()``, or ``async with``)."""
    return AiohttpTransport(base_url, timeout=timeout)


def as_transport(http: Transport | httpx.AsyncClient) -> Transport:
    """A transport, or an ``httpx.AsyncClient`` (an in-process app, a test's scripted upstream)."""
    return HttpxTransport(http) if isinstance(http, httpx.AsyncClient) else http


def may_retry(method: str, exc: BaseException) -> bool:
    if not isinstance(exc, VirtuosoUnavailable):
        return False
    return method in _IDEMPOTENT or not exc.reached_server


class VirtuosoHttp:
    """Sends requests with Virtuoso's headers and turns every answer into an :class:`Envelope` or error."""

    def __init__(
        self,
        http: Transport,
        *,
        tokens: TokenSource,
        client_id: str,
        client_name: str,
        remote: RemoteCall,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._remote = remote
        # Per-request headers, so the injected client is never changed and can be shared. Built again
        # only when the source hands out another token (an identity check per request).
        self._fixed_headers = {
            "X-Virtuoso-Client-ID": client_id,
            "X-Virtuoso-Client-Name": client_name,
            "Accept": "application/json",
        }
        self._token: str | None = None
        self._headers = self._fixed_headers
        self._body_headers = self._fixed_headers

    def _headers_for(self, token: str, *, body: bool) -> dict[str, str]:
        if token is not self._token:
            self._headers = {"Authorization": f"Bearer {token}", **self._fixed_headers}
            self._body_headers = {**self._headers, "Content-Type": "application/json"}
            self._token = token
        return self._body_headers if body else self._headers

    async def _first_token(self) -> str:
        """For a source that has not read its token yet (or may no longer serve the one it read)."""
        token = await self._tokens.refresh(None)
        if token is None:
            raise VirtuosoNotConfigured()
        return token

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int | bool] | None = None,
        resource: str | None = None,
        retry: bool = True,
    ) -> Envelope:
        """Send one request (retried per the rule above); ``resource`` names the target in a 404.
        ``retry=False`` sends it once: for a caller with its own schedule (the runs poll loop)."""

        # Asked without an await: a fixed token, or a source's cached one.
        token = self._tokens.current() or await self._first_token()

        async def attempt(_timeout: float) -> Envelope:  # httpx's own timeout bounds each attempt
            return await self._once(method, path, json_body, params, resource, token)

        return await self._remote(
            attempt, what=f"{method} {path}", transient=lambda exc: may_retry(method, exc), retry=retry
        )

    async def _once(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: Mapping[str, str | int | bool] | None,
        resource: str | None,
        token: str,
    ) -> Envelope:
        request = f"{method} {path}"
        query = {key: _query_value(value) for key, value in (params or {}).items()}
        body = None if json_body is None else _json_bytes(json_body)
        response = await self._send(method, path, body, query, token, request)
        if response.status == 401:
            # Refused: the key may have been rotated. Virtuoso acted on nothing, so the request is sent
            # once more with the newer token, if the source has one.
            newer = await self._newer_token(token, request)
            if newer is not None:
                response = await self._send(method, path, body, query, newer, request)
        logger.debug("virtuoso %s -> %s", request, response.status)
        return self._read(response, request, resource)

    async def _send(
        self, method: str, path: str, body: bytes | None, query: dict[str, str], token: str, request: str
    ) -> Answer:
        headers = self._headers_for(token, body=body is not None)
        try:
            return await self._http.send(method, path, params=query, body=body, headers=headers)
        except TransportFailed as exc:
            reason = f"{request} failed: {exc.kind}"
            detail = self._scrub(exc.detail)
            if detail:
                reason += f" ({detail[:_SNIPPET]})"
            raise VirtuosoUnavailable(reason, reached_server=exc.reached_server) from None

    async def _newer_token(self, refused: str, request: str) -> str | None:
        try:
            newer = await self._tokens.refresh(refused)
        except Exception as exc:  # the 401 is the answer then; why no newer token came is logged
            logger.warning("Virtuoso refused the token for %s; no newer one: %s", request, describe(exc))
            return None
        return newer if newer and newer != refused else None

    def _read(self, response: Answer, request: str, resource: str | None) -> Envelope:
        status = response.status
        body = self._decode(response, request, strict=200 <= status < 300)
        envelope = parse_envelope(body, request=request)
        if 200 <= status < 300 and not envelope.failed:
            return envelope
        upstream = read_error(body)
        message = self._scrub(upstream.message if upstream else _text_snippet(response)) or "no message"
        code = upstream.code if upstream else None
        if status == 429 or status >= 500:
            raise VirtuosoUnavailable(
                f"{request} answered {status}: {message}",
                upstream_status=status,
                retry_after_seconds=_retry_after(response),
            )
        common: dict[str, Any] = {
            "request": request,
            "upstream_status": status,
            "upstream_message": message,
            "upstream_code": code,
        }
        if status in (401, 403):
            raise VirtuosoAuthFailed(
                f"Virtuoso refused our credentials for {request} ({status}); "
                "check that VIRTUOSO_API_TOKEN is set to a valid token for this organization",
                **common,
            )
        if status == 404:
            raise VirtuosoNotFound(f"{resource or request} was not found in Virtuoso", **common)
        raise VirtuosoRejected(f"Virtuoso rejected {request} ({status}): {message}", **common)

    def _decode(self, response: Answer, request: str, *, strict: bool) -> Any:
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            if strict:
                raise VirtuosoProtocolError(
                    f"Virtuoso answered {request} with a body that is not JSON", request=request
                ) from None
            return None

    def _scrub(self, text: str) -> str:
        # Virtuoso (or a proxy) may echo the Authorization header back in an error message, and h11
        # quotes a header it refuses escaped; the kit's registry (the client registers our token)
        # masks every spelling, not only the raw one.
        return redact(text)


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_bytes(value: Any) -> bytes:
    # As httpx's json= wrote it (compact UTF-8), so Virtuoso receives the same bytes as before.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _text_snippet(response: Answer) -> str:
    text = response.text.strip()
    return text[:_SNIPPET] if text else response.reason


def _retry_after(response: Answer) -> int:
    raw = response.headers.get("retry-after", "")
    return int(raw) if raw.isdigit() else 5
