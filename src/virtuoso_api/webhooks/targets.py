"""Where a webhook may be delivered: the SSRF guard.

A webhook URL is a caller's choice of where *this service* connects, so it must not reach what only
the service can reach: its own loopback, the private network it runs in, or the cloud metadata server
(which hands out the service's credentials). The URL is checked when a webhook is made (a literal
refused address is a 422) and the name is resolved again at every delivery, every address checked,
and the connection made to the checked address (no second lookup a DNS rebinding could answer
differently). Redirects are never followed.

``WEBHOOK_ALLOW_LOCAL_TARGETS`` (local development and tests) allows ``http`` and loopback targets;
private, link-local and metadata addresses stay refused even then.

Written here: the libraries for this (``advocate``, ``ssrf-protect``) wrap ``requests``, not httpx.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from virtuoso_api.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata servers by name and address: Google's, AWS's (also over IPv6), Alibaba's, Oracle's.
_METADATA_NAMES: Final = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
MAX_URL_LENGTH: Final = 2048


class TargetRefused(Exception):
    """A webhook target the guard refuses; the message says why (and never holds a secret)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent

    @property
    def literal(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def refusal(address: IPAddress, *, allow_local: bool) -> str | None:
    """Why ``address`` may not be a webhook target, or ``None`` when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_loopback:
        return None if allow_local else "a loopback address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "not a routable unicast address"
    if address.is_private or not address.is_global:
        return "a private address"
    return None


def parse_target(url: str, *, allow_local: bool, field: str = "url") -> Target:
    """Check a webhook URL as given (422 naming ``field``): https (or http where local targets are
    allowed), a host, no credentials, and no literal address or name the guard refuses."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, f"is not a valid URL ({exc})") from exc
    allowed = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in allowed:
        raise InvalidInput(field, "must be an https:// URL" + ("" if allow_local else " (http is refused)"))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise InvalidInput(field, "must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(field, "must not carry credentials; the signature authenticates each delivery")
    if parts.fragment:
        raise InvalidInput(field, "must not have a #fragment")
    target = Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), _path(parts))
    if host in _METADATA_NAMES:
        raise InvalidInput(field, "names a cloud metadata server")
    if (host == "localhost" or host.endswith(".localhost")) and not allow_local:
        raise InvalidInput(field, "names a loopback address")
    literal = target.literal
    if literal is not None and (reason := refusal(literal, allow_local=allow_local)):
        raise InvalidInput(field, f"names {reason}")
    return target


def _path(parts: object) -> str:
    path = getattr(parts, "path", "") or "/"
    query = getattr(parts, "query", "")
    return f"{path}?{query}" if query else path


async def resolve(target: Target, *, allow_local: bool) -> IPAddress:
    """The address to connect to, resolved now; :class:`TargetRefused` if any address the name has is
    refused (a name that also points inward is refused whole, whichever address a lookup returns)."""
    literal = target.literal
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise TargetRefused(f"{target.host} does not resolve ({exc.strerror or exc})") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"{target.host} does not resolve")
    for address in addresses:
        reason = refusal(address, allow_local=allow_local)
        if reason:
            raise TargetRefused(f"{target.host} resolves to {reason} ({address}); not delivered")
    return addresses[0]
