"""``GET /api/v1/events/stream`` and ``virtuoso-api events tail`` against a served process: a real
socket, because an SSE answer never ends and the in-process transport waits for the end."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import CLI, free_port, running
from virtuoso_api.infra.events.sqlite_log import SqliteEventLog
from virtuoso_api.kit.clock import SystemClock


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("stream") / "data"
    env = {"DATA_DIR": str(data), "NO_GCE_CHECK": "true"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--sandbox", "--port", str(port), ready=f"{base}/health/live", env=env):
        yield base, env


def make_key(env: dict[str, str], name: str, scopes: str = "read,write") -> str:
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", name, "--scopes", scopes, "--json"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )
    return str(json.loads(made.stdout)["key"])


async def sse(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """SSE messages as dicts of their fields (comments, the keep-alive pings, skipped)."""
    message: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if message:
                yield message
            message = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            message[field] = value.removeprefix(" ")


async def read(
    base: str, key: str, count: int, *, query: str = "", last: str | None = None
) -> list[dict[str, str]]:
    headers = {"X-API-Key": key, **({"Last-Event-ID": last} if last else {})}
    got: list[dict[str, str]] = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=20) as http,
        http.stream("GET", f"/api/v1/events/stream{query}", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for message in sse(response):
            got.append(message)
            if len(got) == count:
                break
    return got


async def new_session(base: str, key: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        made = await http.post(
            "/api/v1/sessions", json={"checkpoint_id": 1001, "name": name}, headers={"X-API-Key": key}
        )
        assert made.status_code == 201
        return str(made.json()["session_id"])


async def test_the_stream_resumes_after_the_last_event_id_without_gaps(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    ana, bob = make_key(env, "ana"), make_key(env, "bob")
    first = await new_session(base, ana, "one")
    # From the first event on (its id comes from the journal through the CLI), then what was missed.
    listed = subprocess.run(
        [
            *CLI,
            "events",
            "tail",
            "--from-start",
            "--user",
            "ana",
            "--types",
            "session.created",
            "--limit",
            "1",
            "--json",
        ],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
        timeout=30,
    )
    opening = json.loads(listed.stdout)
    assert opening["data"]["session_id"] == first
    missed = [await new_session(base, ana, f"while away {n}") for n in range(3)]
    await new_session(base, bob, "not ana's")
    resumed = await read(base, ana, 3, query="?types=session.created", last=opening["id"])
    assert [json.loads(m["data"])["data"]["session_id"] for m in resumed] == missed
    assert all(m["event"] == "session.created" for m in resumed)
    assert [m["id"] for m in resumed] == [json.loads(m["data"])["id"] for m in resumed]
    # Resuming again from the middle gives exactly the rest.
    rest = await read(base, ana, 1, query="?types=session.created", last=resumed[1]["id"])
    assert json.loads(rest[0]["data"])["data"]["session_id"] == missed[2]


async def test_a_caller_sees_only_its_own_events_and_an_admin_sees_everyones(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    cyd, dan, admin = make_key(env, "cyd"), make_key(env, "dan"), make_key(env, "root", "admin")
    mark = await new_session(base, cyd, "mark")
    dans = await new_session(base, dan, "dan's")
    cyds = await new_session(base, cyd, "cyd's")
    # Both resume after the marker event; cyd sees only cyd's, the admin both.
    marker_id = await event_id_of(env, mark)
    own = await read(base, cyd, 1, query="?types=session.created", last=marker_id)
    assert json.loads(own[0]["data"])["data"]["session_id"] == cyds
    both = await read(base, admin, 2, query="?types=session.created", last=marker_id)
    assert [json.loads(m["data"])["data"]["session_id"] for m in both] == [dans, cyds]


async def event_id_of(env: dict[str, str], session_id: str) -> str:
    """The id of a session's ``session.created`` event, read from the journal file the server keeps."""
    log = SqliteEventLog(Path(env["DATA_DIR"]) / "events.sqlite3", clock=SystemClock())
    try:
        for logged in await log.read(after=0, limit=10_000, where={"type": ["session.created"]}):
            if json.loads(logged.message.data)["data"]["session_id"] == session_id:
                return logged.message.id
    finally:
        await log.close()
    raise AssertionError(f"no event for {session_id}")


async def test_an_unknown_last_event_id_says_so_then_follows_new_events(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    eve = make_key(env, "eve")
    async with (
        httpx.AsyncClient(base_url=base, timeout=20) as http,
        http.stream(
            "GET",
            "/api/v1/events/stream",
            headers={"X-API-Key": eve, "Last-Event-ID": "evt_0000000000000000"},
        ) as response,
    ):
        messages = sse(response)
        reset = await messages.__anext__()
        assert reset["event"] == "reset"
        assert json.loads(reset["data"])["unknown_id"] == "evt_0000000000000000"
        made = await new_session(base, eve, "after the reset")
        following = await messages.__anext__()
    assert json.loads(following["data"])["data"]["session_id"] == made


async def test_unknown_types_are_refused_naming_the_parameter(served: tuple[str, dict[str, str]]) -> None:
    base, env = served
    key = make_key(env, "fay")
    async with httpx.AsyncClient(base_url=base) as http:
        refused = await http.get("/api/v1/events/stream?types=command.exploded", headers={"X-API-Key": key})
        anonymous = await http.get("/api/v1/events/stream")
        types = await http.get("/api/v1/events/types", headers={"X-API-Key": key})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "types"
    assert anonymous.status_code == 401
    listed = {t["type"]: t for t in types.json()["types"]}
    assert listed["command.executed"]["version"] == 1
    assert "command" in listed["command.executed"]["schema"]["properties"]
