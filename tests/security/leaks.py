"""How a secret may look once it has left the process: spelled out here, independently of the code
under test, so a test that finds none of them proves something; and a Virtuoso that hangs up."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def spellings(secret: str) -> dict[str, str]:
    return {
        "raw": secret,
        "repr": repr(secret)[1:-1],
        "bytes repr": repr(secret.encode())[2:-1],
        "json": json.dumps(secret)[1:-1],
        "json of repr": json.dumps(repr(secret)[1:-1])[1:-1],
        "json of bytes repr": json.dumps(repr(secret.encode())[2:-1])[1:-1],
    }


def leaks(secret: str, text: str) -> list[str]:
    """The names of the spellings of ``secret`` found in ``text`` (empty when it does not leak)."""
    return [name for name, form in spellings(secret).items() if form in text]


@contextmanager
def hanging_up() -> Iterator[int]:
    """A port whose listener takes each connection and closes it at once, answering nothing: a request
    is really sent (so its headers are checked) and never answered. Yields the port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.1)
        stop = threading.Event()

        def hang_up() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                connection.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        try:
            yield listener.getsockname()[1]
        finally:
            stop.set()
            thread.join(timeout=5)
