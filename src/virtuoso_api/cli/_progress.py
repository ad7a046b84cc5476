"""Live progress of runs on stderr: a rich bar per run on a terminal, a line per change elsewhere
(CI logs keep every change and no control characters)."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from virtuoso_api.cli._runtime import err
from virtuoso_api.runs import RunView


def describe(view: RunView) -> str:
    """``RUNNING 40%  PASS 1 FAIL 0 ...``: the status, the progress and the journeys per outcome."""
    percent = f" {round(100 * view.progress)}%" if view.progress is not None else ""
    counts = "  ".join(f"{outcome} {count}" for outcome, count in view.counts.items() if count)
    text = f"{view.status or 'UNKNOWN'}{percent}"
    if view.outcome:
        text += f" outcome {view.outcome}"
    return f"{text}  {counts}" if counts else text


class RunProgress:
    def __init__(self) -> None:
        self._live = err.is_terminal
        self._progress = Progress(
            TextColumn("run {task.fields[run]}"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._tasks: dict[int, TaskID] = {}
        self._last: dict[int, str] = {}

    def __enter__(self) -> RunProgress:
        if self._live:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live:
            self._progress.stop()

    def update(self, view: RunView) -> None:
        line = describe(view)
        if self._live:
            task = self._tasks.get(view.execution_id)
            if task is None:
                task = self._progress.add_task(line, total=1.0, run=view.execution_id)
                self._tasks[view.execution_id] = task
            self._progress.update(task, completed=view.progress or 0.0, description=line)
        elif self._last.get(view.execution_id) != line:
            self._last[view.execution_id] = line
            err.print(f"run {view.execution_id}: {line}")
