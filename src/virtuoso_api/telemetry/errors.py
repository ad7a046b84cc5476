"""Unhandled errors, reported with their context: to a local error log, or to Error Reporting.

A report is made where the error is caught (the HTTP middleware, the facade's ``record_error``) and
handed to a background thread: writing it never delays or fails the request that broke. The queue
is bounded; a report that finds it full, or that its sink refuses, is dropped and counted
(``virtuoso.telemetry.dropped{signal="errors"}``). Every text in a report is redacted of the
registered secrets, and the request context keeps no header, body or query string.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from virtuoso_api.kit.redact import redact, redact_value

logger = logging.getLogger(__name__)

_QUEUE_SIZE: Final = 256
_STOP: Final = object()


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """One error: its type and message, the stack (Error Reporting groups by it), and context."""

    type: str
    message: str
    stack: str
    time: str
    context: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: BaseException, context: Mapping[str, Any] | None = None) -> ErrorReport:
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(
            type=type(exc).__name__,
            message=redact(str(exc))[:2000],
            stack=redact(stack)[:30000],
            time=datetime.now(UTC).isoformat(),
            context=redact_value(dict(context or {})),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, ensure_ascii=False)


class ErrorSink(Protocol):
    """Where reports go; ``write`` runs on the reporting thread and may block or raise."""

    def write(self, report: ErrorReport) -> None: ...

    def close(self) -> None: ...


class LocalErrorLog:
    """``DATA_DIR/errors.jsonl``: one JSON object a line, newest last."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, report: ErrorReport) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(report.to_json() + "\n")

    def close(self) -> None:
        return None


class ErrorReporting:
    """Reports handed to ``sink`` on a thread of their own; ``dropped`` is called with each drop."""

    def __init__(self, sink: ErrorSink, *, dropped: Callable[[int], None]) -> None:
        self.sink = sink
        self._dropped = dropped
        self._queue: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="error-reporting", daemon=True)
        self._thread.start()
        self.written = 0  # reports the sink took: what tests and the overhead bench read

    def report(self, exc: BaseException, context: Mapping[str, Any] | None = None) -> ErrorReport:
        report = ErrorReport.of(exc, context)
        try:
            self._queue.put_nowait(report)
        except queue.Full:
            self._dropped(1)
        return report

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every report queued so far was written or dropped (tests, shutdown)."""
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)
        self.sink.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            assert isinstance(item, ErrorReport)
            try:
                self.sink.write(item)
                self.written += 1
            except Exception as exc:  # the sink is down: this report is lost, and counted
                logger.warning(
                    "an error report was dropped: %s", redact(f"{type(exc).__name__}: {exc}")[:300]
                )
                self._dropped(1)
