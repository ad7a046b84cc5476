"""The service's metrics: one OpenTelemetry instrument each, with bounded labels only.

Labels are route templates, command names, outcomes, event types, queue names and backends: sets
fixed by the code or the configuration. User ids, session ids, job ids and raw paths never become a
label (each value would be a new time series, paid for in memory here and in money on Cloud
Monitoring); they go on spans and log lines instead. README "Telemetry" lists every metric.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.metrics import Meter

#: Milliseconds buckets for request and command durations (the SDK's default stops at 10 s and has
#: no resolution below 5 ms, where most answers of this service are).
DURATION_BUCKETS_MS: Final = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)

_COMMAND: Final = re.compile(r"[a-z][a-z0-9-]{0,40}")
_CONSUMER_SUFFIX: Final = re.compile(r"-[0-9a-f]{6,}.*$")


def command_label(command: str) -> str:
    """A command name as a label: the vocabulary's names pass; anything else is ``other``, so a
    caller's typo cannot mint a series."""
    return command if _COMMAND.fullmatch(command) else "other"


def consumer_label(subscription: str) -> str:
    """``stream-<instance id>`` is ``stream``: one series per kind of consumer, not per process."""
    return _CONSUMER_SUFFIX.sub("", subscription)


class Instruments:
    """Every instrument, made once on one meter (a no-op meter when telemetry is off)."""

    def __init__(self, meter: Meter) -> None:
        self.requests = meter.create_histogram(
            "virtuoso.http.server.duration",
            unit="ms",
            description="HTTP requests served, by method, route template and status code",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS_MS,
        )
        self.commands = meter.create_counter(
            "virtuoso.commands", unit="1", description="Commands executed, by command, outcome and source"
        )
        self.command_duration = meter.create_histogram(
            "virtuoso.command.duration",
            unit="ms",
            description="Time to execute a command, by command and outcome",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS_MS,
        )
        self.errors = meter.create_counter(
            "virtuoso.errors", unit="1", description="Errors, by type and where they happened"
        )
        self.sessions = meter.create_counter(
            "virtuoso.session.events", unit="1", description="Sessions created and ended"
        )
        self.cache = meter.create_counter(
            "virtuoso.cache.requests", unit="1", description="Cache reads, by result (hit or miss)"
        )
        self.queue_depth = meter.create_gauge(
            "virtuoso.queue.depth", unit="1", description="Tasks on each queue, by state (last reading)"
        )
        self.published = meter.create_counter(
            "virtuoso.events.published", unit="1", description="Events accepted for publishing, by type"
        )
        self.consumed = meter.create_counter(
            "virtuoso.events.consumed",
            unit="1",
            description="Messages handled by each consumer, by outcome (acked or nacked)",
        )
        self.jobs = meter.create_counter(
            "virtuoso.jobs.finished", unit="1", description="Jobs that ended, by kind and status"
        )
        self.runs = meter.create_counter(
            "virtuoso.runs.finished", unit="1", description="Virtuoso runs that ended, by outcome"
        )
        self.dead_letters = meter.create_counter(
            "virtuoso.webhook.dead_letters",
            unit="1",
            description="Webhook deliveries given up after their last retry",
        )
        self.dropped = meter.create_counter(
            "virtuoso.telemetry.dropped",
            unit="1",
            description="Spans, metric exports and error reports dropped (exporter unreachable or full)",
        )

    # -- recording ---------------------------------------------------------------------------------

    def command(
        self, command: str, *, success: bool, duration_ms: float | None, source: str = "http"
    ) -> None:
        name = command_label(command)
        outcome = "success" if success else "failure"
        self.commands.add(1, {"command": name, "outcome": outcome, "source": source})
        if duration_ms is not None:
            self.command_duration.record(duration_ms, {"command": name, "outcome": outcome})

    def error(self, error_type: str, where: str) -> None:
        self.errors.add(1, {"type": error_type[:60], "where": where})

    def event(self, event_type: str, data: Mapping[str, Any]) -> None:
        """What a published event says about the service (every flow publishes, so this one hook
        counts commands, sessions, jobs, runs and dead letters without touching their code)."""
        self.published.add(1, {"type": event_type})
        if event_type in ("command.executed", "command.failed"):
            success = event_type == "command.executed"
            duration = data.get("duration_ms")
            self.command(
                str(data.get("command", "")),
                success=success,
                duration_ms=float(duration) if isinstance(duration, int | float) else None,
                source=_source(data.get("source")),
            )
            if not success:
                failure = data.get("error")
                kind = failure.get("type") if isinstance(failure, Mapping) else None
                self.error(str(kind or "command_failed"), "command")
        elif event_type.startswith("session."):
            self.sessions.add(1, {"event": event_type.removeprefix("session.")})
        elif event_type in ("job.completed", "job.failed", "job.cancelled"):
            self.jobs.add(1, {"kind": str(data.get("kind", "other"))[:20], "status": event_type[4:]})
        elif event_type == "run.finished":
            self.runs.add(1, {"outcome": str(data.get("outcome", "other"))})
        elif event_type == "webhook.delivery_failed":
            self.dead_letters.add(1)


def _source(value: object) -> str:
    return value if isinstance(value, str) and value in ("http", "cli", "facade", "task") else "other"
