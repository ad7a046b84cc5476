"""Live progress of suite files on stderr: a rich bar per file on a terminal (steps added, then the
run's progress), a line per change elsewhere (CI logs keep every change and no control characters)."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from virtuoso_api.cli._progress import describe
from virtuoso_api.cli._runtime import err
from virtuoso_api.runs import RunView
from virtuoso_api.suites.model import Suite
from virtuoso_api.suites.results import SuiteRunResult
from virtuoso_api.suites.runner import Observer


class SuiteProgress:
    def __init__(self, suites: Sequence[Suite]) -> None:
        self._live = err.is_terminal
        self._progress = Progress(
            TextColumn("{task.fields[file]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._suites = suites
        self._tasks: list[TaskID] = []

    def __enter__(self) -> SuiteProgress:
        if self._live:
            for suite in self._suites:
                self._tasks.append(
                    self._progress.add_task("waiting", total=len(suite.steps), file=suite.source)
                )
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live:
            self._progress.stop()

    @property
    def live(self) -> bool:
        return self._live

    def observer(self, index: int) -> Observer:
        return _FileObserver(self, index)

    def show(
        self, index: int, description: str, *, completed: float | None = None, total: float | None = None
    ) -> None:
        if self._live:
            self._progress.update(
                self._tasks[index], description=description, completed=completed, total=total
            )
        else:
            err.print(f"{self._suites[index].source}: {description}")


class _FileObserver(Observer):
    def __init__(self, progress: SuiteProgress, index: int) -> None:
        self._progress = progress
        self._index = index
        self._last = ""

    async def changed(self, result: SuiteRunResult, what: str) -> None:
        show = self._progress.show
        if what == "placed" and result.placement is not None:
            placement = result.placement
            where = (
                f"project {placement.project_id}, goal {placement.goal_id}, journey {placement.journey_id}, "
                f"checkpoint{'s' if len(placement.checkpoints) != 1 else ''} "
                + ", ".join(str(c.checkpoint_id) for c in placement.checkpoints)
            )
            made = f" (created: {', '.join(placement.created)})" if placement.created else ""
            show(self._index, f"{where}{made}")
        elif what == "step":
            done = len(result.steps)
            last = result.steps[-1]
            failed_now = not last.success and (last.error or {}).get("type") != "skipped"
            # In a CI log: a line every 25 steps, at the end, and at each failure.
            if self._progress.live or done % 25 == 0 or done == result.total_steps or failed_now:
                failed = len(result.failed_steps)
                text = f"adding steps{f', {failed} failed' if failed else ''}"
                show(
                    self._index,
                    text if self._progress.live else f"{done}/{result.total_steps} {text}",
                    completed=done,
                )
        elif what == "run-started":
            show(self._index, f"run {result.execution_id} started", completed=0, total=1.0)

    def run_update(self, result: SuiteRunResult, view: RunView) -> None:  # noqa: ARG002 -- the port's signature
        line = f"run {view.execution_id} {describe(view)}"
        if line != self._last:
            self._last = line
            self._progress.show(self._index, line, completed=view.progress or 0.0, total=1.0)
