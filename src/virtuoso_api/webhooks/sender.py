"""One delivery attempt: sign the payload as the Standard Webhooks specification says, and POST it.

``webhook-id`` is the delivery's id, the same on every retry, so a receiver that saw it already can
drop the repeat; ``webhook-timestamp`` is the attempt's time (the service's clock); ``webhook-signature``
holds ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` for each secret in force (two while a rotated
secret's grace period runs). Signing uses the specification's reference library (``standardwebhooks``),
so receivers verify with the same code. https://github.com/standard-webhooks/standard-webhooks

The connection goes to the address :func:`~virtuoso_api.webhooks.targets.resolve` checked, with the
URL's host name in ``Host`` and in TLS (SNI and certificate checks), redirects not followed, and the
answer's body never read: only its status counts.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx
from opentelemetry.trace import SpanKind
from standardwebhooks.webhooks import Webhook

from virtuoso_api import __version__
from virtuoso_api.kit.redact import redact
from virtuoso_api.telemetry import inject_into, span
from virtuoso_api.telemetry.propagation import mark_failed
from virtuoso_api.webhooks.targets import Target, TargetRefused, parse_target, resolve

USER_AGENT: Final = f"virtuoso-api-webhooks/{__version__}"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secrets: Sequence[str], *, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with every secret given."""
    signatures = [Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


class WebhookSender:
    def __init__(self, *, timeout_seconds: float, allow_local: bool) -> None:
        self._allow_local = allow_local
        self._http = httpx.AsyncClient(
            timeout=timeout_seconds,
            follow_redirects=False,
            # Each delivery connects to the address checked for it; a pooled connection could be
            # reused for a host whose name now resolves elsewhere, so connections are not kept.
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,  # no proxy from the environment: it would connect past the guard
        )

    async def send(
        self, url: str, *, secrets: Sequence[str], message_id: str, at: datetime, body: str
    ) -> AttemptResult:
        started = time.perf_counter()
        try:
            target = parse_target(url, allow_local=self._allow_local)
            address = await resolve(target, allow_local=self._allow_local)
        except TargetRefused as exc:
            return AttemptResult(None, _since(started), str(exc))
        except Exception as exc:  # a URL that was valid when saved but not under today's rules
            return AttemptResult(None, _since(started), f"target refused: {getattr(exc, 'message', exc)}")
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "host": _host_header(target),
            **sign(secrets, message_id=message_id, at=at, body=body),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        with span(
            "webhook POST", kind=SpanKind.CLIENT, attributes={"server.address": target.host}
        ) as current:
            inject_into(headers)  # the receiver can continue the trace of the event it gets
            result = await self._post(target, address, headers, extensions, body, started)
            if result.error is not None:
                mark_failed(current, result.error)
            return result

    async def _post(
        self,
        target: Target,
        address: ipaddress.IPv4Address | ipaddress.IPv6Address,
        headers: dict[str, str],
        extensions: dict[str, Any],
        body: str,
        started: float,
    ) -> AttemptResult:
        request = self._http.build_request(
            "POST",
            _pinned_url(target, address),
            content=body.encode(),
            headers=headers,
            extensions=extensions,
        )
        try:
            response = await self._http.send(request, stream=True)
            await response.aclose()  # the status is the answer; a receiver's body is not read
        except httpx.TimeoutException:
            return AttemptResult(None, _since(started), "timed out")
        except httpx.HTTPError as exc:
            return AttemptResult(None, _since(started), redact(f"{type(exc).__name__}: {exc}")[:300])
        error = None
        if response.is_redirect:
            error = f"answered {response.status_code} (a redirect, not followed)"
        elif not response.is_success:
            error = f"answered {response.status_code}"
        return AttemptResult(response.status_code, _since(started), error)

    async def close(self) -> None:
        await self._http.aclose()


def _pinned_url(target: Target, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"{target.scheme}://{host}:{target.port}{target.path}"


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
