"""Which process holds something (a claim, a request in flight), and whether that process is gone.

A record written by a process carries :func:`holder`. Another process on the same host can tell
that the writer died (its pid no longer runs, or runs as a new process that reused it) and take over
at once instead of waiting out a lease; on another host it cannot tell, and the lease decides.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any, Final

HOST: Final = socket.gethostname()
#: Tells this process's records from those of an earlier process with the same pid.
INSTANCE: Final = f"{os.getpid()}-{time.time_ns()}"


def holder() -> dict[str, Any]:
    return {"host": HOST, "pid": os.getpid(), "instance": INSTANCE}


def is_ours(record: Mapping[str, Any]) -> bool:
    return record.get("instance") == INSTANCE


def is_gone(record: Mapping[str, Any]) -> bool:
    """``True`` when the process that wrote ``record`` (with :func:`holder`'s fields) has surely ended."""
    if is_ours(record) or record.get("host") != HOST:
        return False
    pid = int(record.get("pid", 0))
    # Our own pid under another instance id: an earlier process that had it (pid 1 in a container).
    return pid == os.getpid() or not is_running(pid)


def is_running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
