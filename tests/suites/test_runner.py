"""The suite runner on the running services, into the in-process sandbox (on the test's clock): what a
failed step does to the rest (stop, or go on), and a resumed run that finds the run an earlier attempt
started instead of starting another. State is read back from the sandbox."""

from __future__ import annotations

import textwrap

import pytest

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.config import Settings
from virtuoso_api.history.models import Source
from virtuoso_api.kit.correlation import correlation_id
from virtuoso_api.runs import RunRequest
from virtuoso_api.sandbox.state import SandboxState
from virtuoso_api.services import Services
from virtuoso_api.suites import Suite, parse_suite
from virtuoso_api.suites.placement import Lookups, PlacementOptions
from virtuoso_api.suites.results import SuiteRunResult
from virtuoso_api.suites.runner import DirectSink, Observer, RunOptions, SuiteRunner

CALLER = Principal(key_id="k", user_id="qa", name="qa", scopes=frozenset(Scope))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One attempt per Virtuoso request: a throttled request is a failed step, not a retried one.
    return settings.model_copy(update={"virtuoso_retry_attempts": 1})


def _suite(name: str, **config: str) -> Suite:
    lines = "".join(f"  {key}: {value}\n" for key, value in config.items())
    text = textwrap.dedent(
        f"""\
        name: {name}
        starting_url: https://shop.example.com
        steps:
          - click: One
          - click: Two
          - click: Three
        """
    )
    return parse_suite(text + (f"config:\n{lines}" if lines else ""), source=f"{name}.yaml")


def _runner(services: Services) -> SuiteRunner:
    return SuiteRunner(
        lookups=Lookups(services.virtuoso.client),
        runs=services.runs,
        clock=services.clock,
        caller=CALLER,
        source=Source.CLI,
    )


def _sandbox(services: Services) -> SandboxState:
    state: SandboxState = services.virtuoso.sandbox_app.state.sandbox
    return state


class _ThrottleOnce(Observer):
    """Once the suite is placed, the sandbox answers its next request 429 (the first step's)."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state

    async def changed(self, result: SuiteRunResult, what: str) -> None:  # noqa: ARG002 -- the port's
        if what == "placed":
            self._state.traffic.throttle(1)


@pytest.mark.parametrize(("go_on", "expected"), [(False, [False, False, False]), (True, [False, True, True])])
async def test_a_failed_step_stops_the_rest_unless_asked_to_go_on(
    services: Services, go_on: bool, expected: list[bool]
) -> None:
    suite = _suite(f"Throttled {go_on}", continue_on_error=str(go_on).lower())
    runner = _runner(services)
    options = RunOptions(placement=PlacementOptions(project="Runner"))
    result = runner.new_result(suite, "r1", options)
    sink = DirectSink(services.commands, CALLER)
    result = await runner.run(suite, result, options, sink, _ThrottleOnce(_sandbox(services)))
    assert [step.success for step in result.steps] == expected
    assert result.steps[0].error is not None
    assert result.steps[0].error["status"] == 503  # Virtuoso said "not now" (429)
    if not go_on:
        assert [s.error["type"] for s in result.steps[1:] if s.error] == ["skipped", "skipped"]
    assert result.status.value == "incomplete"
    assert result.placement is not None
    stored = await services.virtuoso.client.list_steps(result.placement.checkpoints[0].checkpoint_id)
    assert [step.id for step in stored] == [s.step_id for s in result.steps if s.success]


async def test_a_resumed_run_finds_the_run_it_started_and_starts_no_other(services: Services) -> None:
    suite = _suite("Resumed run")
    runner = _runner(services)
    options = RunOptions(execute=True, placement=PlacementOptions(project="Runner"))
    first = runner.new_result(suite, "job_resumed", options)
    first = await runner.run(suite, first, options, DirectSink(services.commands, CALLER))
    assert (first.status.value, first.execution_id is not None) == ("passed", True)
    assert first.placement is not None
    journey = first.placement.journey_id
    assert journey is not None

    # An attempt that died after asking Virtuoso to start the run, before storing its id: the run
    # exists (started under the job's id as correlation id), the stored result only says "requested".
    token = correlation_id.set("job_resumed_2")
    try:
        started = await services.runs.start(CALLER, RunRequest(journey_id=journey), source=Source.CLI)
    finally:
        correlation_id.reset(token)
    stored = first.model_copy(
        update={"run_id": "job_resumed_2", "run_requested": True, "execution_id": None, "run": None}
    )
    starts_before = _sandbox(services).traffic.count("POST", f"/testsuites/{journey}/execute")
    resumed = await runner.run(suite, stored, options, DirectSink(services.commands, CALLER))
    assert resumed.execution_id == started.execution_ids[0]
    assert _sandbox(services).traffic.count("POST", f"/testsuites/{journey}/execute") == starts_before
    assert resumed.run is not None
    assert resumed.run.outcome == "PASS"
