"""A Virtuoso whose key a test rotates: the sandbox on a real socket (uvicorn in a thread of its own),
with the tokens it accepts changed as Virtuoso's admin would (a new key made, the old one revoked), and
a record of the token each request carried and what it was answered.

The sandbox accepts one token; while two keys are valid, a request with the other one is passed on
with the sandbox's, as Virtuoso would accept either."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.processes import free_port
from virtuoso_api.sandbox import BASE_PATH, create_sandbox_app

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class Seen:
    token: str
    status: int


@dataclass
class RotatingVirtuoso:
    token: str
    port: int = field(default_factory=free_port)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sandbox = create_sandbox_app(token=self.token)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._valid = {self.token}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE_PATH}"

    def accept_only(self, token: str) -> None:
        """The key was rotated in Virtuoso: from now on only ``token`` is accepted."""
        self.accept(token)

    def accept(self, *tokens: str) -> None:
        """Every one of ``tokens`` is valid (a new key was made; the old one is not revoked yet)."""
        self._valid = set(tokens)
        self.sandbox.state.sandbox.token = tokens[0]

    def tokens_since(self, index: int) -> list[tuple[str, int]]:
        return [(seen.token, seen.status) for seen in self.seen[index:]]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.sandbox(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
        if token in self._valid:
            accepted = f"Bearer {self.sandbox.state.sandbox.token}".encode()
            headers[b"authorization"] = accepted
            scope = {**scope, "headers": list(headers.items())}

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append(Seen(token, int(message["status"])))
            await send(message)

        await self.sandbox(scope, receive, recording)

    def __enter__(self) -> RotatingVirtuoso:
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the rotating sandbox did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)
