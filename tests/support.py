"""Helpers tests import (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

MakeKey = Callable[..., Awaitable[str]]


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}
