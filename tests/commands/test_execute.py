"""``POST /api/v1/commands`` for step commands: every command of the catalogue into the sandbox."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.commands.conftest import CHECKPOINT, run, stored_steps
from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.commands.vocabulary import StepCommand, catalogue, parse_command
from virtuoso_api.services import Services
from virtuoso_api.virtuoso.steps import Clue

STEP_EXAMPLES = [entry["example"] for entry in catalogue() if entry["kind"] == "step"]


def test_the_catalogue_has_every_step_command() -> None:
    assert len(STEP_EXAMPLES) == 59


@pytest.mark.parametrize("example", STEP_EXAMPLES, ids=lambda e: f"{e['command']} {e['args'][0]}")
async def test_each_step_command_lands_in_the_checkpoint_as_built(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str], example: dict[str, object]
) -> None:
    command, args = str(example["command"]), [str(a) for a in example["args"]]  # type: ignore[attr-defined]
    response = await run(client, writer, command, *args, checkpoint_id=CHECKPOINT)
    assert response.status_code == 201, response.text
    body = response.json()
    parsed = parse_command(command, args)
    assert isinstance(parsed, StepCommand)
    (stored,) = [s for s in await stored_steps(services) if s["id"] == body["step_id"]]
    expected = parsed.step.to_payload()
    assert stored["action"] == expected["action"] == body["action"]
    assert stored["value"] == expected["value"]
    assert stored["meta"] == {"kind": expected["action"], **expected["meta"]}  # Virtuoso sets meta.kind
    assert stored.get("target") == expected.get("target")
    assert stored.get("variable") == expected.get("variable")
    assert (body["checkpoint_id"], body["position"], stored["step_index"]) == (CHECKPOINT, 1, 1)
    assert (body["command"], body["args"]) == (command, args)
    assert body["duration_ms"] >= 0


class TestSelectors:
    @pytest.mark.parametrize(
        "selector", ['input[name="email"]', "C:\\path\\to", 'say "hi" \\ bye', "ünïcødé 🚀", '{"clue": 1}']
    )
    async def test_quotes_and_backslashes_reach_virtuoso_intact(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str], selector: str
    ) -> None:
        response = await run(client, writer, "step-interact", "click", selector, checkpoint_id=CHECKPOINT)
        assert response.status_code == 201, response.text
        (stored,) = await stored_steps(services)
        clue_json = stored["target"]["selectors"][0]["value"]
        assert Clue.model_validate(json.loads(clue_json)).clue == selector


class TestPositions:
    async def test_steps_are_appended_and_insert_with_at_or_position(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        for expected, text in enumerate(("one", "two", "three"), start=1):
            response = await run(client, writer, "step-misc", "comment", text, checkpoint_id=CHECKPOINT)
            assert response.json()["position"] == expected
        first = await run(
            client, writer, "step-misc", "comment", "first", "--at", "1", checkpoint_id=CHECKPOINT
        )
        second = await run(
            client, writer, "step-misc", "comment", "second", checkpoint_id=CHECKPOINT, position=2
        )
        assert (first.json()["position"], second.json()["position"]) == (1, 2)
        assert [s["value"] for s in await stored_steps(services)] == [
            "first",
            "second",
            "one",
            "two",
            "three",
        ]

    async def test_a_number_in_the_arguments_is_a_value_not_a_position_or_checkpoint(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        await run(client, writer, "step-misc", "comment", "x", checkpoint_id=CHECKPOINT)
        response = await run(client, writer, "step-wait", "time", "1000", checkpoint_id=CHECKPOINT)
        assert response.json()["position"] == 2
        assert (await stored_steps(services))[1]["value"] == "1000"

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"position": 3}, "position"),
            ({"args_at": "9"}, "args.--at"),
            ({"position": 1, "args_at": "2"}, "position"),
        ],
    )
    async def test_impossible_positions_are_422(
        self,
        client: httpx.AsyncClient,
        services: Services,
        writer: dict[str, str],
        extra: dict[str, object],
        field: str,
    ) -> None:
        at = extra.pop("args_at", None)
        args = ["comment", "x", *(["--at", str(at)] if at else [])]
        response = await run(client, writer, "step-misc", *args, checkpoint_id=CHECKPOINT, **extra)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field
        assert await stored_steps(services) == []


class TestCheckpoint:
    async def test_from_the_body_as_number_or_cp_id(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        assert (
            await run(client, writer, "step-misc", "comment", "a", checkpoint_id=f"cp_{CHECKPOINT}")
        ).status_code == 201
        assert len(await stored_steps(services)) == 1

    async def test_from_the_active_session_or_a_named_one(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        missing = await run(client, writer, "step-misc", "comment", "a")
        assert missing.status_code == 422
        assert missing.json()["error"]["details"][0] == {
            "field": "checkpoint_id",
            "reason": "no checkpoint: pass checkpoint_id (or session_id), or activate a session first",
        }
        session = (
            await client.post("/api/v1/sessions", headers=writer, json={"checkpoint_id": CHECKPOINT})
        ).json()
        named = await run(client, writer, "step-misc", "comment", "named", session_id=session["session_id"])
        assert (named.status_code, named.json()["session_id"]) == (201, session["session_id"])
        await client.post(f"/api/v1/sessions/{session['session_id']}/activate", headers=writer)
        active = await run(client, writer, "step-misc", "comment", "active")
        assert (active.status_code, active.json()["checkpoint_id"]) == (201, CHECKPOINT)
        assert [s["value"] for s in await stored_steps(services)] == ["named", "active"]

    async def test_an_unknown_checkpoint_is_404_naming_it(
        self, client: httpx.AsyncClient, writer: dict[str, str]
    ) -> None:
        response = await run(client, writer, "step-misc", "comment", "a", checkpoint_id=987654)
        assert response.status_code == 404
        assert "987654" in response.json()["error"]["message"]


class TestRejections:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"command": "step-teleport", "args": ["x"]}, "command"),
            ({"command": "step-navigate", "args": ["to", "file:///etc/passwd"]}, "args[1]"),
            ({"command": "step-navigate", "args": ["to", "https://x.org", "--bogus"]}, "args.--bogus"),
            ({"command": "step-window", "args": ["resize", "wide"]}, "args[1]"),
            ({"command": "step-navigate", "args": ["to"], "colour": "red"}, "colour"),
            ({"command": "", "args": []}, "command"),
        ],
    )
    async def test_bad_commands_are_422_naming_the_field_and_create_nothing(
        self,
        client: httpx.AsyncClient,
        services: Services,
        writer: dict[str, str],
        body: dict[str, object],
        field: str,
    ) -> None:
        response = await client.post(
            "/api/v1/commands", headers=writer, json={**body, "checkpoint_id": CHECKPOINT}
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field
        assert await stored_steps(services) == []

    async def test_a_read_only_key_may_not_run_commands(
        self, client: httpx.AsyncClient, make_key: MakeKey, services: Services
    ) -> None:
        reader = auth(await make_key(Scope.READ, name="reader"))
        response = await run(client, reader, "step-misc", "comment", "a", checkpoint_id=CHECKPOINT)
        assert response.status_code == 403
        assert await stored_steps(services) == []
