"""Stored suite runs (collection ``suite_runs``), one document per run keyed by its job's id, kept
as long as the job (7 days). Written when the infrastructure is placed, as steps go in (every
:data:`SAVE_EVERY` steps), when a run is about to start and has started, and at the end."""

from __future__ import annotations

from virtuoso_api.infra.documents import DocumentStore
from virtuoso_api.jobs.service import KEEP
from virtuoso_api.kit.clock import Clock
from virtuoso_api.suites.results import COLLECTION, SuiteRunResult

SAVE_EVERY = 10


class SuiteRuns:
    def __init__(self, store: DocumentStore, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get(self, run_id: str) -> SuiteRunResult | None:
        document = await self._store.get(COLLECTION, run_id)
        return None if document is None else SuiteRunResult.model_validate(document.data)

    async def save(self, result: SuiteRunResult) -> None:
        await self._store.put(
            COLLECTION,
            result.run_id,
            result.model_dump(mode="json"),
            expires_at=result.started_at + KEEP,
        )
