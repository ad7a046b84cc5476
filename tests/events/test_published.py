"""What the domain flows publish: one event per command, batch, session and key change, in the one
envelope, with the owner, the request's id as correlation id, and data that fits the type's schema."""

from __future__ import annotations

import json

import httpx

from tests.support import MakeKey, auth, published
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.events import SCHEMAS, EventType
from virtuoso_api.services import Services


async def test_a_step_command_publishes_command_executed_with_the_request_id(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    key = await make_key(name="ana")
    answer = await client.post(
        "/api/v1/commands",
        json={"command": "step-navigate", "args": ["to", "https://example.com"], "checkpoint_id": "cp_1001"},
        headers={**auth(key), "X-Request-ID": "req-42"},
    )
    assert answer.status_code == 201
    (event,) = await published(services, "command.executed")
    assert event["specversion"] == "1.0"
    assert event["source"] == "/virtuoso-api"
    assert event["owner"] == "ana"
    assert event["correlationid"] == "req-42"
    assert event["subject"] == "checkpoint/1001"
    assert event["dataschema"] == "urn:virtuoso-api:events:command.executed:v1"
    assert event["data"]["step_id"] == answer.json()["step_id"]
    assert event["data"]["position"] == 1
    assert event["data"]["success"] is True
    SCHEMAS[EventType.COMMAND_EXECUTED][0].model_validate(event["data"])
    log = services.events.capability.journal
    (logged,) = await log.read(after=0, where={"type": ["command.executed"]})
    assert logged.message.ordering_key == "checkpoint:1001"


async def test_a_refused_command_publishes_command_failed(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    key = await make_key(name="ana")
    refused = await client.post(
        "/api/v1/commands", json={"command": "list-steps", "args": ["999999"]}, headers=auth(key)
    )
    assert refused.status_code == 404
    (event,) = await published(services, "command.failed")
    assert event["data"]["success"] is False
    assert event["data"]["error"]["status"] == 404


async def test_a_batch_publishes_each_command_and_its_summary(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    key = await make_key(name="ana")
    commands = [
        {"command": "step-navigate", "args": ["to", "https://example.com"]},
        {"command": "step-interact", "args": ["click", "button.submit"]},
    ]
    done = await client.post(
        "/api/v1/commands/batch", json={"commands": commands, "checkpoint_id": 1001}, headers=auth(key)
    )
    assert done.status_code == 200
    assert len(await published(services, "command.executed")) == 2
    (summary,) = await published(services, "batch.completed")
    assert summary["data"] == {"total": 2, "succeeded": 2, "failed": 0, "skipped": 0, "checkpoint_id": 1001}


async def test_sessions_and_keys_publish_their_lifecycle_without_secrets(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    admin = await make_key(Scope.ADMIN, name="root")
    made = await client.post(
        "/api/v1/api-keys", json={"name": "ci", "user_id": "ci-bot"}, headers=auth(admin)
    )
    key_id, secret = made.json()["key_id"], made.json()["key"]
    await client.delete(f"/api/v1/api-keys/{key_id}", headers=auth(admin))
    await client.delete(f"/api/v1/api-keys/{key_id}", headers=auth(admin))  # already revoked: no event
    session = await client.post("/api/v1/sessions", json={"checkpoint_id": 1001}, headers=auth(admin))
    await client.delete(f"/api/v1/sessions/{session.json()['session_id']}", headers=auth(admin))
    kinds = [e["type"] for e in await published(services)]
    assert kinds == [
        "api_key.created",  # the admin's own key
        "api_key.created",
        "api_key.revoked",
        "session.created",
        "session.ended",
    ]
    keys = await published(services, "api_key.created", "api_key.revoked")
    assert [(e["owner"], e["data"]["key_id"]) for e in keys[1:]] == [("ci-bot", key_id)] * 2
    assert all(secret not in json.dumps(e) for e in keys)
    ended = (await published(services, "session.ended"))[0]
    assert ended["data"]["reason"] == "deleted"
    assert ended["owner"] == "root"
