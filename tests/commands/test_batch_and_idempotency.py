"""``POST /api/v1/commands/batch`` and ``Idempotency-Key`` on both command routes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.commands.conftest import CHECKPOINT, run, stored_steps
from virtuoso_api.services import Services


def _comment(text: str, **extra: Any) -> dict[str, Any]:
    return {"command": "step-misc", "args": ["comment", text], **extra}


async def _batch(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/v1/commands/batch", headers=headers, json=body)


class TestBatch:
    async def test_all_succeed_in_order_with_consecutive_positions(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        await run(client, writer, "step-misc", "comment", "already there", checkpoint_id=CHECKPOINT)
        response = await _batch(
            client,
            writer,
            checkpoint_id=f"cp_{CHECKPOINT}",
            commands=[
                {"command": "step-navigate", "args": ["to", "https://example.com"]},
                {"command": "step-interact", "args": ["click", "button.submit"]},
                {"command": "step-assert", "args": ["exists", "Success message"]},
            ],
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["total"], body["succeeded"], body["failed"], body["skipped"]) == (3, 3, 0, 0)
        assert [item["outcome"]["position"] for item in body["results"]] == [2, 3, 4]
        assert [s["action"] for s in await stored_steps(services)] == [
            "COMMENT",
            "NAVIGATE",
            "CLICK",
            "ASSERT_EXISTS",
        ]

    async def test_some_fail_is_207_and_the_rest_run_without_stop_on_error(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        response = await _batch(
            client,
            writer,
            checkpoint_id=CHECKPOINT,
            stop_on_error=False,
            commands=[_comment("a"), _comment("b", checkpoint_id=424242), _comment("c")],
        )
        assert response.status_code == 207
        body = response.json()
        assert [item["status"] for item in body["results"]] == ["succeeded", "failed", "succeeded"]
        assert body["results"][1]["status_code"] == 404
        assert body["results"][1]["error"]["type"] == "not_found"
        assert [s["value"] for s in await stored_steps(services)] == ["a", "c"]

    async def test_stop_on_error_skips_the_rest(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        response = await _batch(
            client,
            writer,
            checkpoint_id=CHECKPOINT,
            commands=[_comment("a"), _comment("b", checkpoint_id=424242), _comment("c")],
        )
        assert response.status_code == 207
        assert [item["status"] for item in response.json()["results"]] == ["succeeded", "failed", "skipped"]
        assert [s["value"] for s in await stored_steps(services)] == ["a"]

    async def test_when_every_command_fails_the_answer_has_the_failures_status(
        self, client: httpx.AsyncClient, writer: dict[str, str]
    ) -> None:
        response = await _batch(client, writer, checkpoint_id=424242, commands=[_comment("a"), _comment("b")])
        assert response.status_code == 404
        assert response.json()["succeeded"] == 0

    async def test_one_malformed_command_refuses_the_whole_batch_first(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        response = await _batch(
            client,
            writer,
            checkpoint_id=CHECKPOINT,
            commands=[_comment("a"), {"command": "step-wait", "args": ["time", "99999999"]}],
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "commands[1].args[1]"
        assert await stored_steps(services) == []

    async def test_the_batch_body_is_validated(
        self, client: httpx.AsyncClient, writer: dict[str, str]
    ) -> None:
        for body, field in (
            ({"commands": []}, "commands"),
            ({"commands": [{"args": []}]}, "commands[0].command"),
        ):
            response = await _batch(client, writer, **body)
            assert response.status_code == 422
            assert response.json()["error"]["details"][0]["field"] == field


class TestIdempotency:
    async def test_a_retried_command_answers_the_same_and_adds_one_step(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        headers = {**writer, "Idempotency-Key": "ci-run-42-step-1"}
        first = await run(client, headers, "step-misc", "comment", "once", checkpoint_id=CHECKPOINT)
        second = await run(client, headers, "step-misc", "comment", "once", checkpoint_id=CHECKPOINT)
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json() == second.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert len(await stored_steps(services)) == 1

    async def test_reusing_a_key_for_another_body_is_422(
        self, client: httpx.AsyncClient, writer: dict[str, str]
    ) -> None:
        headers = {**writer, "Idempotency-Key": "k-1"}
        await run(client, headers, "step-misc", "comment", "a", checkpoint_id=CHECKPOINT)
        response = await run(client, headers, "step-misc", "comment", "b", checkpoint_id=CHECKPOINT)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "header Idempotency-Key"

    async def test_a_failure_that_changed_nothing_may_be_retried(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        headers = {**writer, "Idempotency-Key": "k-2"}
        failed = await run(client, headers, "step-misc", "comment", "a")  # no checkpoint, no session
        assert failed.status_code == 409
        await client.post(
            "/api/v1/sessions", headers=writer, json={"checkpoint_id": CHECKPOINT, "activate": True}
        )
        retried = await run(client, headers, "step-misc", "comment", "a")
        assert retried.status_code == 201
        assert len(await stored_steps(services)) == 1

    async def test_a_partly_successful_batch_is_kept(
        self, client: httpx.AsyncClient, services: Services, writer: dict[str, str]
    ) -> None:
        headers = {**writer, "Idempotency-Key": "batch-7"}
        body = {"checkpoint_id": CHECKPOINT, "commands": [_comment("a"), _comment("b", checkpoint_id=424242)]}
        first = await client.post("/api/v1/commands/batch", headers=headers, json=body)
        second = await client.post("/api/v1/commands/batch", headers=headers, json=body)
        assert (first.status_code, second.status_code) == (207, 207)
        assert first.json() == second.json()
        assert len(await stored_steps(services)) == 1
