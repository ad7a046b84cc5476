"""Tiny real remote servers for the client's failure paths: Virtuoso's answers, not our code, are faked.

:class:`Upstream` is an ASGI app answering a script of responses (the last one repeats) and recording
every request it receives; :func:`silent_listener` is a TCP socket that accepts connections and never
answers, for read timeouts.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from tests.processes import free_port


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Upstream:
    """Answers ``answers`` in order, then repeats the last one."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers) or [Answer()]
        self.requests: list[Seen] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        self.requests.append(
            Seen(scope["method"], scope["path"], scope["query_string"].decode(), headers, body)
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        content = answer.encoded()
        response_headers = [(b"content-type", b"application/json")]
        response_headers += [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})


# A port nothing listens on: bound, then released.
closed_port = free_port


@contextmanager
def silent_listener() -> Iterator[tuple[int, socket.socket]]:
    """A socket that takes connections (through its backlog) and never answers; yields (port, socket)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1], sock


def count_pending_connections(sock: socket.socket) -> int:
    """Accept every connection waiting in the backlog and count them."""
    sock.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = sock.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1
