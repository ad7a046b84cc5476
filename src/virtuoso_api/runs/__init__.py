"""Runs: start goals, journeys and plans on Virtuoso, follow them to their outcome, report them
(``service.py``; one shared poll loop per run in ``watch.py``; JUnit XML in ``junit.py``)."""

from virtuoso_api.runs.models import Kind, RunRequest, RunView, StartedRuns, Verdict
from virtuoso_api.runs.service import RunService
from virtuoso_api.runs.watch import PollPolicy

__all__ = ["Kind", "PollPolicy", "RunRequest", "RunService", "RunView", "StartedRuns", "Verdict"]
