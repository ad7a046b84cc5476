"""One trace across the service's hops: W3C ``traceparent`` into tasks, events and webhooks, and back.

HTTP requests carry the context in headers (the middleware reads them, ``virtuoso_calls.py``
writes them on Virtuoso calls). Work that leaves the request (a job's task, an event on the bus, a
webhook delivery made by the consumer later) carries the ``traceparent`` string in its own record:
the task's payload and Cloud Tasks' request headers, the event envelope (CloudEvents'
distributed-tracing extension) and the message's attributes. The side that picks the work up
starts its span as a child of that context.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from virtuoso_api.telemetry.runtime import active

TRACEPARENT = "traceparent"


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span now running, or ``None`` outside any sampled span."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get(TRACEPARENT)


def inject_into(headers: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (and ``tracestate``) of the current span to outgoing headers."""
    inject(headers)


@contextlib.contextmanager
def span(
    name: str,
    *,
    traceparent: str | None = None,
    carrier: Mapping[str, str] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span of the active telemetry, the child of ``traceparent`` (or of the headers in
    ``carrier``) when given, else of the current span. An exception escaping the block marks it."""
    parent = None
    if carrier is not None:
        parent = extract(carrier)
    elif traceparent:
        parent = extract({TRACEPARENT: traceparent})
    token = None if parent is None else otel_context.attach(parent)
    try:
        with active().tracer.start_as_current_span(
            name, kind=kind, attributes=dict(attributes or {}), record_exception=True
        ) as current:
            yield current
    finally:
        if token is not None:
            otel_context.detach(token)


def mark_failed(current: Span, description: str) -> None:
    current.set_status(Status(StatusCode.ERROR, description[:200]))
