"""The Virtuoso client masks its token in what Virtuoso (or a proxy in front of it) says back, whatever
spelling the echo takes: raw, escaped as Python would, as h11 quotes a header, or as JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.security.leaks import leaks, spellings
from tests.virtuoso._upstream import Answer, Upstream
from virtuoso_api.virtuoso import VirtuosoClient
from virtuoso_api.virtuoso.errors import VirtuosoAuthFailed, VirtuosoRejected

# Printable ASCII, as the settings require, yet escaped by both repr and JSON: a backslash and a quote.
TOKEN = 'tok\\9e"41-secret'


@pytest.fixture
async def http() -> AsyncIterator[list[httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []
    yield opened
    for client in opened:
        await client.aclose()


def _client(opened: list[httpx.AsyncClient], upstream: Upstream) -> VirtuosoClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url="http://virtuoso.test/api")
    opened.append(http)
    return VirtuosoClient(http, token=TOKEN, org_id=1)


def _everything_said(error: Exception) -> str:
    details = getattr(error, "details", None)
    return f"{error} {error!r} {json.dumps(details)} {details!r}"


@pytest.mark.parametrize("form", ["repr", "bytes repr", "json", "json of repr"])
async def test_an_escaped_echo_in_a_refusal_is_masked(http: list[httpx.AsyncClient], form: str) -> None:
    echo = f"proxy refused Authorization: Bearer {spellings(TOKEN)[form]}"
    client = _client(http, Upstream(Answer(400, raw=echo.encode())))
    with pytest.raises(VirtuosoRejected) as caught:
        await client.list_projects()
    assert leaks(TOKEN, _everything_said(caught.value)) == []
    assert "proxy refused Authorization: Bearer ***" in caught.value.message


async def test_an_escaped_echo_of_a_refused_token_is_masked(http: list[httpx.AsyncClient]) -> None:
    said = {"success": False, "error": f"token {TOKEN.encode()!r} is not valid"}
    upstream = Upstream(Answer(401, body=said))
    with pytest.raises(VirtuosoAuthFailed) as caught:
        await _client(http, upstream).list_projects()
    assert upstream.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert leaks(TOKEN, _everything_said(caught.value)) == []
