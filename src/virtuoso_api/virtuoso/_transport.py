"""How a request reaches Virtuoso: aiohttp over the network, httpx for an in-process app.

Chosen by measurement (``bench/virtuoso_client.py``: the same client, the same sandbox, one run, CPU
per call of this process): aiohttp's connection pool and HTTP/1.1 parser are written in C and keep
their bookkeeping out of Python, where httpx spends most of its time per call in httpcore's pool
(assigning requests to connections, asking each pooled connection whether its socket is still
readable) and in its layered request and response models. On this 2-core machine one step POST cost
a quarter to a third of the CPU through aiohttp that it cost through httpx (0.33-0.48 ms against
1.42-1.62 ms), and when only the transport changed, a step command through the service went from
5.7-5.9 ms of CPU to 2.0-2.6 ms at concurrency 8 (``bench/throughput.py``; the README's performance
section has the figures).

httpx stays where no socket is involved: the in-process sandbox (``serve --sandbox``, through
``httpx.ASGITransport``), the unconfigured client, and tests that script an upstream as an ASGI app.
:class:`~virtuoso_api.virtuoso._http.VirtuosoHttp` takes either, as a :class:`Transport`, and reads
failures as :class:`TransportFailed`, whatever library raised them.

Failures are named as httpx names them (``ConnectError``, ``ReadTimeout``...): the names are in
messages users and operators have seen, and they say which phase failed. ``reached_server`` is false
only when the request cannot have reached Virtuoso (the connection was never made), which is what
decides whether a POST may be sent again.
"""

from __future__ import annotations

import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    import aiohttp

# Failures that happen before a single byte of the request reaches Virtuoso.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str
    content: bytes
    #: Header names in lower case.
    headers: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class TransportFailed(Exception):
    """No answer: ``kind`` names the failure (httpx's class names), ``detail`` is the library's text
    (unscrubbed: the caller masks secrets in it)."""

    def __init__(self, kind: str, detail: str, *, reached_server: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail
        self.reached_server = reached_server


class Transport(Protocol):
    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> Answer:
        """One request to ``base_url + path``; raises :class:`TransportFailed` when no answer came."""
        ...

    async def aclose(self) -> None: ...


class HttpxTransport:
    """An ``httpx.AsyncClient`` the caller made (its base URL, timeout and transport are used as they
    are); closed with this transport."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> Answer:
        try:
            response = await self.client.request(method, path, params=params, content=body, headers=headers)
        except httpx.TransportError as exc:
            reached = not isinstance(exc, _NEVER_SENT)
            raise TransportFailed(type(exc).__name__, str(exc), reached_server=reached) from None
        return Answer(
            response.status_code,
            response.reason_phrase,
            response.content,
            {name.lower(): value for name, value in response.headers.items()},
        )

    async def aclose(self) -> None:
        await self.client.aclose()


class AiohttpTransport:
    """Requests to ``base_url`` (``https://api.virtuoso.qa/api``) over a pool of kept-alive
    connections: at most ``timeout`` seconds to get a connection, and at most ``timeout`` seconds
    between bytes of the answer, as httpx's single ``timeout`` meant. aiohttp is imported here, when
    the service is built (not by a CLI command that never builds it, such as ``--help``), never on a
    first request: importing it takes ~0.1-0.5 s, which would hold the event loop, and every request
    on it, that long. The session is made on the first request, inside the running event loop
    aiohttp needs."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, max_connections: int = 100) -> None:
        import aiohttp  # noqa: F401  (see the class docstring)

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        # As httpx did, so a deployment that worked keeps working: its CA bundle (certifi, or
        # SSL_CERT_FILE / SSL_CERT_DIR), and the proxy the environment names (HTTPS_PROXY, NO_PROXY).
        # Both read once here, not per request (aiohttp's trust_env reads the environment on every
        # request); the TLS context only for https, where loading the bundle takes 30-90 ms.
        url = urllib.parse.urlsplit(self.base_url)
        self._ssl: ssl.SSLContext | bool = httpx.create_ssl_context() if url.scheme == "https" else True
        self._proxy = _proxy_for(url)

    def url(self, path: str) -> str:
        return self.base_url + path

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        self._session = aiohttp.ClientSession(
            # Idle connections are dropped after 4 s, before a server with uvicorn's 5 s keep-alive (the
            # sandbox) closes them under a request being sent.
            connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=4.0, ssl=self._ssl),
            timeout=aiohttp.ClientTimeout(
                total=None, connect=self.timeout, sock_connect=self.timeout, sock_read=self.timeout
            ),
            # aiohttp's default cookie jar, as httpx kept one: a load balancer's session cookie (if
            # Virtuoso's sets one) is sent back as before.
            raise_for_status=False,
            trust_env=False,  # the environment's proxy is read once (__init__)
            auto_decompress=True,
        )
        return self._session

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> Answer:
        import aiohttp

        session = self._session or self._open()
        try:
            async with session.request(
                method,
                self.base_url + path,
                params=params or None,
                data=body,
                headers=headers,
                proxy=self._proxy,
                # An answer is read as it comes, as httpx did: a redirect is never followed (it
                # would carry the bearer token to wherever it points).
                allow_redirects=False,
            ) as response:
                content = await response.read()
                return Answer(
                    response.status,
                    response.reason or "",
                    content,
                    {name.lower(): value for name, value in response.headers.items()},
                )
        except aiohttp.ClientError as exc:
            raise _failure(exc) from None
        except TimeoutError as exc:  # a phase without a class of its own
            raise TransportFailed("ReadTimeout", str(exc), reached_server=True) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AiohttpTransport:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _proxy_for(url: urllib.parse.SplitResult) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``/``HTTP_PROXY``, less ``NO_PROXY``)."""
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy is None or (url.hostname and urllib.request.proxy_bypass(url.hostname)):
        return None
    return proxy


def _failure(exc: aiohttp.ClientError) -> TransportFailed:
    """aiohttp's failure under httpx's name for the same phase."""
    import aiohttp

    detail = str(exc)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TransportFailed("ConnectTimeout", detail, reached_server=False)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, unreachable, DNS, TLS handshake
        return TransportFailed("ConnectError", detail, reached_server=False)
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return TransportFailed("ReadTimeout", detail, reached_server=True)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return TransportFailed("RemoteProtocolError", detail, reached_server=True)
    if isinstance(exc, aiohttp.ClientOSError):
        return TransportFailed("ReadError", detail, reached_server=True)
    return TransportFailed(type(exc).__name__, detail, reached_server=True)
