"""Running our own programs as real processes on real ports, for tests that cross a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

import httpx
import pytest

from virtuoso_api.sandbox import OBSERVER_HEADER

CLI = (sys.executable, "-m", "virtuoso_api")


def dead_pid() -> int:
    """A pid no process has: what a record written by a process that died carries."""
    for pid in range(4_000_000, 4_100_000):  # above the default pid_max: no process has these
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free pid found")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(
    *args: str,
    ready: str,
    headers: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 20,
    output: IO[bytes] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``virtuoso-api *args`` in its own process, until ``ready`` answers 200; stopped afterwards.

    Its output is a pipe, read when it stops (``communicate()``), or the file ``output``: a server
    that logs more than a pipe holds (some 64 KiB, a few hundred requests) before it stops would
    block on its next log line."""
    process = subprocess.Popen(
        [*CLI, *args],
        env={**os.environ, **(env or {})},
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready, headers=dict(headers or {}), timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                said = process.communicate()[0]
                if output is not None:
                    output.seek(0)
                    said = output.read()
                pytest.fail(f"virtuoso-api {' '.join(args)} did not become ready:\n{said.decode()}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=10)


@contextmanager
def served_sandbox(token: str, *options: str, observer: bool = False) -> Iterator[str]:
    """``virtuoso-api sandbox`` on a free port, taking ``token``; yields its API's base URL.
    ``options`` go to the command (``--latency-ms``...); ``observer`` waits for it through the
    observer header (which a sandbox holding answers back lets through at once)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/api"
    headers = {"Authorization": f"Bearer {token}", **({OBSERVER_HEADER: "1"} if observer else {})}
    with running(
        "sandbox",
        "--port",
        str(port),
        "--token",
        token,
        *options,
        ready=f"{base_url}/projects",
        headers=headers,
    ):
        yield base_url
