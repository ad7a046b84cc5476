"""Retries: only where a second attempt cannot create a second object, and bounded."""

from __future__ import annotations

import asyncio

import pytest

from tests.virtuoso._upstream import Answer, Upstream, closed_port, count_pending_connections, silent_listener
from tests.virtuoso.conftest import TOKEN, RecordingWait, UpstreamClient
from virtuoso_api.virtuoso import (
    VirtuosoClient,
    VirtuosoRejected,
    VirtuosoUnavailable,
    build_virtuoso_http,
    virtuoso_remote,
)
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, StepCreate

UNAVAILABLE = Answer(503, {"success": False, "error": "maintenance"})
STEP = {"success": True, "item": {"id": 9, "stepIndex": 1}}


def _step() -> StepCreate:
    return StepCreate(checkpoint_id=1001, step_index=1, parsed_step=ParsedStep(action=StepAction.COMMENT))


async def test_a_get_is_retried_until_it_succeeds(
    upstream_client: UpstreamClient, waits: RecordingWait
) -> None:
    upstream = Upstream(UNAVAILABLE, Answer(502), Answer(200, STEP))
    step = await upstream_client(upstream).get_step(9)
    assert step.id == 9
    assert len(upstream.requests) == 3
    assert len(waits.pauses) == 2


async def test_retries_are_bounded(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(UNAVAILABLE)
    with pytest.raises(VirtuosoUnavailable):
        await upstream_client(upstream).get_step(9)
    assert len(upstream.requests) == 3


async def test_a_put_is_retried(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(429), Answer(200, {"item": {"id": 4, "title": "t"}}))
    journey = await upstream_client(upstream).update_journey(4, title="t")
    assert journey.title == "t"
    assert [r.method for r in upstream.requests] == ["PUT", "PUT"]


async def test_a_step_post_that_got_a_503_is_not_sent_again(
    upstream_client: UpstreamClient, waits: RecordingWait
) -> None:
    upstream = Upstream(UNAVAILABLE, Answer(200, STEP))
    with pytest.raises(VirtuosoUnavailable):
        await upstream_client(upstream).create_step(_step())
    assert len(upstream.requests) == 1
    assert waits.pauses == []


async def test_an_execution_post_is_not_sent_again(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(504), Answer(200, {"item": {"id": 11, "status": "QUEUED"}}))
    with pytest.raises(VirtuosoUnavailable):
        await upstream_client(upstream).execute_goal(1)
    assert len(upstream.requests) == 1


async def test_a_rejection_is_never_retried(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(400, {"error": "bad"}), Answer(200, STEP))
    with pytest.raises(VirtuosoRejected):
        await upstream_client(upstream).get_step(9)
    assert len(upstream.requests) == 1


async def test_a_post_is_retried_when_the_connection_was_never_made(waits: RecordingWait) -> None:
    port = closed_port()
    async with build_virtuoso_http(f"http://127.0.0.1:{port}/api", timeout=2.0) as http:
        client = VirtuosoClient(http, token=TOKEN, org_id=1, remote=virtuoso_remote(attempts=3, sleep=waits))
        with pytest.raises(VirtuosoUnavailable) as caught:
            await client.create_step(_step())
    assert len(waits.pauses) == 2
    error = caught.value
    assert error.reached_server is False
    assert error.upstream_status is None
    assert "ConnectError" in error.message
    assert TOKEN not in f"{error} {error.details!r}"


async def test_a_post_that_timed_out_waiting_for_an_answer_is_not_sent_again(waits: RecordingWait) -> None:
    with silent_listener() as (port, listener):
        async with build_virtuoso_http(f"http://127.0.0.1:{port}/api", timeout=0.3) as http:
            client = VirtuosoClient(
                http, token=TOKEN, org_id=1, remote=virtuoso_remote(attempts=3, sleep=waits)
            )
            with pytest.raises(VirtuosoUnavailable) as caught:
                await client.create_step(_step())
        connections = count_pending_connections(listener)
    assert caught.value.reached_server is True
    assert "ReadTimeout" in caught.value.message
    assert waits.pauses == []
    assert connections == 1


async def test_a_get_that_timed_out_is_retried(waits: RecordingWait) -> None:
    with silent_listener() as (port, listener):
        async with build_virtuoso_http(f"http://127.0.0.1:{port}/api", timeout=0.3) as http:
            client = VirtuosoClient(
                http, token=TOKEN, org_id=1, remote=virtuoso_remote(attempts=3, sleep=waits)
            )
            with pytest.raises(VirtuosoUnavailable):
                await client.get_step(9)
        connections = count_pending_connections(listener)
    assert len(waits.pauses) == 2
    assert connections == 3


async def test_build_virtuoso_http_keeps_the_api_prefix() -> None:
    async with build_virtuoso_http("http://127.0.0.1:1/api/", timeout=4.0) as http:
        assert http.url("/projects") == "http://127.0.0.1:1/api/projects"
        assert http.timeout == 4.0


async def test_a_redirect_is_not_followed_so_the_token_stays_with_virtuoso() -> None:
    """Over the network (aiohttp) as over httpx before it: a 3xx is an answer, never a second request
    carrying the bearer token to wherever ``Location`` points."""
    elsewhere: list[bytes] = []

    async def other_host(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        elsewhere.append(await reader.read(65536))
        writer.close()

    async def redirecting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        target = f"http://127.0.0.1:{other_port}/stolen"
        writer.write(f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    other = await asyncio.start_server(other_host, "127.0.0.1", 0)
    other_port = other.sockets[0].getsockname()[1]
    virtuoso = await asyncio.start_server(redirecting, "127.0.0.1", 0)
    port = virtuoso.sockets[0].getsockname()[1]
    try:
        async with build_virtuoso_http(f"http://127.0.0.1:{port}/api", timeout=2.0) as http:
            client = VirtuosoClient(http, token=TOKEN, org_id=1)
            with pytest.raises(VirtuosoRejected) as caught:
                await client.get_step(9)
    finally:
        for server in (virtuoso, other):
            server.close()
            await server.wait_closed()
    assert caught.value.upstream_status == 302
    assert elsewhere == []
