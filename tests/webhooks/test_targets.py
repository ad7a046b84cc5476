"""The SSRF guard: what a webhook URL may name when it is made, and where a delivery may connect."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.errors import InvalidInput
from virtuoso_api.webhooks.sender import WebhookSender
from virtuoso_api.webhooks.targets import TargetRefused, parse_target, resolve

REFUSED_ALWAYS = [
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://169.254.10.1/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://10.0.0.8/hook", "private"),
    ("https://192.168.1.20/hook", "private"),
    ("https://172.16.5.4/hook", "private"),
    ("https://[fc00::1]/hook", "private"),
    ("https://100.64.0.1/hook", "private"),
    ("https://0.0.0.0/hook", "routable"),
    ("https://[::ffff:169.254.169.254]/", "metadata"),
    ("https://user:pass@example.com/hook", "credentials"),
    ("ftp://example.com/hook", "https"),
    ("https:///nohost", "host"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_ALWAYS)
@pytest.mark.parametrize("allow_local", [False, True])
def test_refused_whatever_the_setting(url: str, reason: str, allow_local: bool) -> None:
    with pytest.raises(InvalidInput, match=reason) as refused:
        parse_target(url, allow_local=allow_local)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "url",
    ["http://example.com/hook", "https://127.0.0.1/hook", "https://[::1]/hook", "https://localhost/hook"],
)
def test_http_and_loopback_only_where_local_targets_are_allowed(url: str) -> None:
    with pytest.raises(InvalidInput):
        parse_target(url, allow_local=False)
    assert parse_target(url, allow_local=True).host in {"example.com", "127.0.0.1", "::1", "localhost"}


def test_a_public_https_url_is_taken_apart() -> None:
    target = parse_target("https://hooks.example.com:8443/in?team=qa", allow_local=False)
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        8443,
        "/in?team=qa",
    )


def _loopback_name() -> str:
    """A name other than "localhost" that /etc/hosts points at loopback (the guard must resolve it)."""
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#")[0].split()
        if len(fields) >= 2 and ipaddress.ip_address(fields[0]).is_loopback:
            for name in fields[1:]:
                if "localhost" not in name:
                    return name
    pytest.skip("/etc/hosts names no loopback host other than localhost")


async def test_a_name_that_resolves_inward_is_refused_at_delivery_time() -> None:
    name = _loopback_name()
    target = parse_target(f"https://{name}/hook", allow_local=False)  # a name: fine when made
    with pytest.raises(TargetRefused, match="loopback"):
        await resolve(target, allow_local=False)
    sender = WebhookSender(timeout_seconds=1, allow_local=False)
    try:
        result = await sender.send(
            f"https://{name}/hook",
            secrets=["whsec_" + "A" * 43 + "="],
            message_id="dlv_x",
            at=_now(),
            body="{}",
        )
    finally:
        await sender.close()
    assert result.status_code is None
    assert result.error is not None
    assert "loopback" in result.error


def _now() -> datetime:
    return datetime.now(UTC)


async def test_the_api_refuses_a_metadata_url_with_422_naming_url(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key(name="ana")
    refused = await client.post(
        "/api/v1/webhooks", json={"url": "http://169.254.169.254/computeMetadata/v1/"}, headers=auth(key)
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "url", "reason": "names a cloud metadata address"}
    ]
