"""A webhook receiver on a real port (uvicorn in the test's own event loop): it records every request
and answers what the test tells it to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from tests.processes import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    #: The status to answer the next request with (called once per request).
    answer: Callable[[], int] = lambda: 200
    delay_seconds: float = 0
    requests: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def app(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        request = Request(scope, receive)  # type: ignore[arg-type]
        body = await request.body()
        self.requests.append(Received(request.url.path, dict(request.headers), body))
        self.arrived.set()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        status = self.answer()
        headers = {"location": "http://127.0.0.1:9/elsewhere"} if 300 <= status < 400 else None
        await Response(status_code=status, headers=headers)(scope, receive, send)  # type: ignore[arg-type]

    async def wait_for(self, count: int, *, rounds: int = 200) -> list[Received]:
        """Until ``count`` requests arrived (checked after each one, bounded by a count of rounds)."""
        for _ in range(rounds):
            if len(self.requests) >= count:
                break
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), timeout=0.1)
        return self.requests


def statuses(*answers: int, then: int = 200) -> Callable[[], int]:
    """Answer ``answers`` in order, then ``then`` for good."""
    queue = list(answers)
    return lambda: queue.pop(0) if queue else then


@contextlib.asynccontextmanager
async def receiving(**options: object) -> AsyncIterator[Receiver]:
    receiver = Receiver(free_port(), **options)  # type: ignore[arg-type]
    config = uvicorn.Config(
        receiver.app,
        host="127.0.0.1",
        port=receiver.port,
        log_level="warning",
        lifespan="off",
        interface="asgi3",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
