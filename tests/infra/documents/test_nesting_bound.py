"""The SQLite store refuses data nested deeper than every store can keep (``MAX_NESTING``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.json_rules import MAX_NESTING


def _nested(levels: int) -> dict[str, Any]:
    """A document with ``levels`` objects below it."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return {"a": value}


async def test_the_store_keeps_max_nesting_and_refuses_deeper(tmp_path: Path, clock: ManualClock) -> None:
    store = SqliteDocumentStore(tmp_path / "documents.sqlite3", clock=clock)
    try:
        await store.put("things", "deepest", _nested(MAX_NESTING))
        assert (await store.get("things", "deepest")) is not None

        for levels in (MAX_NESTING + 1, 300):
            with pytest.raises(ValueError, match="nested deeper"):
                await store.put("things", f"too-deep-{levels}", _nested(levels))
            assert await store.get("things", f"too-deep-{levels}") is None
    finally:
        await store.close()
