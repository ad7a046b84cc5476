"""The summary of a run the ``runs`` commands print: verdict, outcome, counts, duration, link."""

from __future__ import annotations

from virtuoso_api.cli._runtime import out
from virtuoso_api.runs import RunView, Verdict

_HEADLINE = {
    Verdict.PASSED: "PASSED",
    Verdict.FAILED: "FAILED (tests failed)",
    Verdict.INCOMPLETE: "DID NOT COMPLETE",
    Verdict.RUNNING: "NOT ENDED",
}


def print_summary(view: RunView) -> None:
    what = f" (goal {view.goal_id})" if view.goal_id else ""
    out.print(f"Run {view.execution_id}{what}: {_HEADLINE[view.verdict]}")
    out.print(f"  status {view.status or 'unknown'}, outcome {view.outcome or 'none'}")
    shown = [
        (outcome, count) for outcome, count in view.counts.items() if count or outcome in ("PASS", "FAIL")
    ]
    journeys = (
        f"{view.journeys} journey{'s' if view.journeys != 1 else ''}"
        if view.journeys is not None
        else "journeys"
    )
    out.print(f"  {journeys}: " + ", ".join(f"{outcome} {count}" for outcome, count in shown))
    if view.duration_ms is not None:
        out.print(f"  duration {_duration(view.duration_ms)}")
    out.print(f"  {view.ui_url}" if view.ui_url else "  no UI link (set VIRTUOSO_UI_URL for this Virtuoso)")


def _duration(milliseconds: int) -> str:
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
