"""A span per Virtuoso call, with the trace's ``traceparent`` sent along, whichever HTTP library the
Virtuoso client's transport uses.

Written here rather than taken from OpenTelemetry's client instrumentations because the client has two
transports (aiohttp over the network, httpx for in-process apps such as ``serve --sandbox``) behind one
port, and each library's instrumentation would give its own span shape; wrapping the port gives one
shape for both at a fraction of the cost (the httpx instrumentation was two-thirds of telemetry's own
time on the command path). Spans and propagation are still OpenTelemetry's own (:func:`span`,
:func:`inject_into`).
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.trace import SpanKind

from virtuoso_api.telemetry.propagation import inject_into, mark_failed, span
from virtuoso_api.virtuoso import Answer, Transport, TransportFailed


class TracedTransport:
    """``inner``, each request in a CLIENT span (method, path template-free: the path is an attribute,
    never a metric label) that carries the trace to Virtuoso in ``traceparent``."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> Answer:
        attributes = {"http.request.method": method, "url.path": path, "peer.service": "virtuoso"}
        with span(f"virtuoso {method}", kind=SpanKind.CLIENT, attributes=attributes) as current:
            outgoing = dict(headers)
            inject_into(outgoing)
            try:
                answer = await self.inner.send(method, path, params=params, body=body, headers=outgoing)
            except TransportFailed as exc:
                current.set_attribute("error.type", exc.kind)
                mark_failed(current, exc.kind)
                raise
            current.set_attribute("http.response.status_code", answer.status)
            if answer.status >= 500:
                mark_failed(current, str(answer.status))
            return answer

    async def aclose(self) -> None:
        await self.inner.aclose()
