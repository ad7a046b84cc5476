"""``virtuoso_api.gcp.get_pubsub_client()``: the seed's "Event Publishing" example as written, on the
local log and on the Pub/Sub emulator, and what the facade adds around it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from virtuoso_api.errors import InvalidInput
from virtuoso_api.gcp import PubSubClient, close_pubsub_client
from virtuoso_api.kit.clock import ManualClock

EVENT_BACKENDS = ["sqlite", pytest.param("pubsub", marks=pytest.mark.pubsub)]


@pytest.fixture
async def forget_the_process_client() -> AsyncIterator[None]:
    yield
    await close_pubsub_client()


async def until(condition: object, *, rounds: int = 300) -> None:
    for _ in range(rounds):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


@pytest.mark.usefixtures("forget_the_process_client")
@pytest.mark.parametrize("backend", EVENT_BACKENDS)
async def test_the_seeds_event_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    backend: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if backend == "pubsub":  # configured as a user would: the seed's variables, nothing else
        emulator = request.getfixturevalue("pubsub_emulator")
        monkeypatch.setenv("USE_PUBSUB", "true")
        monkeypatch.setenv("GCP_PROJECT_ID", request.getfixturevalue("pubsub_project"))
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    # --- the seed's "Event Publishing", with app.gcp spelled virtuoso_api.gcp ---
    from virtuoso_api.gcp import get_pubsub_client
    from virtuoso_api.gcp.pubsub_client import EventType

    pubsub = get_pubsub_client()

    # Publish event
    await pubsub.publish_event(
        EventType.COMMAND_EXECUTED,
        {"command": "step-navigate", "checkpoint_id": "cp_123", "duration_ms": 1234, "success": True},
    )

    # Subscribe to events
    def handle_command_event(event_data):
        print(f"Command executed: {event_data}")  # noqa: T201 (the seed prints)

    pubsub.register_handler(EventType.COMMAND_EXECUTED, handle_command_event)
    await pubsub.subscribe("command-events-sub")
    # ---
    assert pubsub.backend == backend
    # A subscription receives what is published once it exists, as on Pub/Sub: another publisher's
    # event (and one of a type with no handler, which is acknowledged and dropped) after it.
    other = PubSubClient()
    later = await other.publish_event(
        "command.executed", {"command": "step-assert", "args": ["exists", "Welcome"], "checkpoint_id": 123}
    )
    await other.publish_event("session.created", {"session_id": "sess_1"})
    await until(lambda: pubsub.handled("command-events-sub") >= 2)
    printed = capsys.readouterr().out
    assert printed.count("Command executed: ") == 1
    assert f"'id': '{later}'" in printed
    assert "'command': 'step-assert'" in printed
    assert "'checkpoint_id': 123" in printed
    await other.close()


@pytest.mark.parametrize("backend", EVENT_BACKENDS)
async def test_events_wait_in_the_subscription_while_no_one_listens(
    request: pytest.FixtureRequest, backend: str, settings: object, clock: ManualClock
) -> None:
    settings = _on(request, backend, settings)
    async with PubSubClient(settings, clock=clock) as first:  # type: ignore[arg-type]
        await first.subscribe("audit-sub")
    got: list[dict[str, object]] = []
    async with PubSubClient(settings, clock=clock) as publisher:  # type: ignore[arg-type]
        sent = [
            await publisher.publish_event(
                "api_key.created", {"key_id": f"key_{n}", "name": "k", "user_id": "u"}
            )
            for n in range(3)
        ]
    async with PubSubClient(settings, clock=clock) as second:  # type: ignore[arg-type]

        async def keep(event: dict[str, object]) -> None:
            got.append(event)

        second.register_handler("api_key.created", keep)
        await second.subscribe("audit-sub")
        await until(lambda: len(got) >= 3)
    assert [event["id"] for event in got] == sent


async def test_a_handler_that_keeps_failing_leaves_a_dead_letter_to_replay(
    settings: object, clock: ManualClock
) -> None:
    failing = True
    seen: list[str] = []

    async def handler(event: dict[str, object]) -> None:
        seen.append(str(event["id"]))
        if failing:
            raise RuntimeError("the handler's own bug")

    async with PubSubClient(settings, clock=clock) as client:  # type: ignore[arg-type]
        client.register_handler("session.created", handler)
        await client.subscribe("flaky-sub")
        event_id = await client.publish_event("session.created", {"session_id": "sess_9"}, owner="ana")
        await until(lambda: len(seen) >= 5)
        await client.unsubscribe("flaky-sub")
        bus = (await client._open()).events.capability.bus
        await bus.pull("flaky-sub")  # the pull that finds it out of attempts sets it aside
        dead = await client.dead_letters("flaky-sub")
        assert [event["id"] for event in dead] == [event_id]
        assert dead[0]["owner"] == "ana"
        failing = False
        assert await client.replay_dead_letters("flaky-sub") == 1
        await client.subscribe("flaky-sub")
        await until(lambda: client.handled("flaky-sub") >= 1)
    assert seen == [event_id] * 6


async def test_data_that_does_not_fit_the_types_schema_is_refused(
    settings: object, clock: ManualClock
) -> None:
    async with PubSubClient(settings, clock=clock) as client:  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match=r"data\.duration_ms"):
            await client.publish_event("command.executed", {"command": "x", "duration_ms": -1})
        with pytest.raises(InvalidInput, match=r"data\.surprise"):
            await client.publish_event("command.executed", {"command": "x", "surprise": 1})
        with pytest.raises(InvalidInput, match="event_type"):
            await client.publish_event("command.exploded", {})


def _on(request: pytest.FixtureRequest, backend: str, settings: object) -> object:
    if backend == "sqlite":
        return settings
    emulator = request.getfixturevalue("pubsub_emulator")
    return settings.model_copy(  # type: ignore[attr-defined]
        update={
            "use_pubsub": True,
            "gcp_project_id": request.getfixturevalue("pubsub_project"),
            "pubsub_emulator_host": emulator.host,
        }
    )
