"""Document stores for the tests in this folder: SQLite in a temporary file, Firestore on the emulator.

The emulator fixtures (``firestore_emulator``, ``firestore_project``) come from
``tests/fixtures/firestore_emulator.py``, which the root conftest loads as a plugin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.firestore_emulator import FirestoreEmulator
from virtuoso_api.config import Environment, Settings
from virtuoso_api.infra.documents import DocumentStore
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.kit.clock import ManualClock

START = datetime(2026, 1, 1, tzinfo=UTC)

#: Data some store could not keep, the error every store raises for it, and the reason it gives.
UNSTORABLE: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"grid": [[1, 2], [3, 4]]}, ValueError, "array directly inside an array"),
    ({"n": 2**64}, ValueError, "64 bits"),
    ({"f": float("nan")}, ValueError, "not a JSON number"),
    ({"": 1}, ValueError, "cannot be a field name"),
    ({"m": {"__x__": 1}}, ValueError, "cannot be a field name"),
    ({"raw": b"bytes"}, TypeError, "not JSON serializable"),
]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def firestore_settings(tmp_path: Path, project: str, emulator_host: str) -> Settings:
    """Firestore on the emulator, configured the way a deployment is: through Settings only."""
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_dir=tmp_path / "data",
        use_firestore=True,
        gcp_project_id=project,
        firestore_emulator_host=emulator_host,
    )


async def open_store(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> DocumentStore:
    if kind == "sqlite":
        return SqliteDocumentStore(tmp_path / "documents.sqlite3", clock=clock)
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore

    emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator")
    project: str = request.getfixturevalue("firestore_project")
    return FirestoreDocumentStore.from_settings(
        firestore_settings(tmp_path, project, emulator.host), clock=clock
    )


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.firestore)])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[DocumentStore]:
    opened = await open_store(request.param, request, tmp_path, clock)
    try:
        yield opened
    finally:
        await opened.close()
