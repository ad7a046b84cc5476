"""Command history exported to the command-logs bucket: one gzip NDJSON blob per UTC day,
``history/YYYY-MM-DD.ndjson.gz``, entries oldest first, one JSON object (the history entry as the API
answers it) per line.

A periodic job exports yesterday (now complete) and today (so far) every hour; ``virtuoso-api logs
export --since`` exports every day from a date. A day's blob is rewritten whole each time, with a
fixed gzip header time, so exporting a finished day again writes the same bytes: the export is
idempotent and nothing is appended (an append could be lost or doubled by a crash).
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from virtuoso_api.history.models import HistoryEntry, HistoryFilters
from virtuoso_api.history.service import HistoryService
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.storage.buckets import BucketKind
from virtuoso_api.storage.service import StorageService

EXPORT_EVERY_SECONDS: Final = 3600.0
_PAGE: Final = 500


def blob_name(day: date) -> str:
    return f"history/{day.isoformat()}.ndjson.gz"


def ndjson_gz(records: list[dict[str, object]]) -> bytes:
    lines = "".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records)
    return gzip.compress(lines.encode("utf-8"), mtime=0)


@dataclass(frozen=True, slots=True)
class ExportedDay:
    day: date
    name: str
    entries: int
    delivered: bool


class LogExporter:
    def __init__(self, history: HistoryService, storage: StorageService, *, clock: Clock) -> None:
        self._history = history
        self._storage = storage
        self._clock = clock

    def needs(self) -> Needs:
        return Needs(periodic=(PeriodicJob("export command logs", EXPORT_EVERY_SECONDS, self.export_recent),))

    async def export(self, since: date, *, until: date | None = None) -> list[ExportedDay]:
        """Export every day from ``since`` to ``until`` (default: today), one blob per day that has
        entries."""
        until = until or self._clock.now().date()
        start = datetime(since.year, since.month, since.day, tzinfo=UTC)
        end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
        days: dict[date, list[HistoryEntry]] = defaultdict(list)
        cursor: str | None = None
        while True:
            page = await self._history.query(HistoryFilters(since=start), limit=_PAGE, cursor=cursor)
            for entry in page.entries:
                if entry.timestamp < end:
                    days[entry.timestamp.astimezone(UTC).date()].append(entry)
            cursor = page.next_cursor
            if cursor is None:
                break
        exported = []
        for day in sorted(days):
            entries = sorted(days[day], key=lambda entry: (entry.timestamp, entry.entry_id))
            body = ndjson_gz([entry.model_dump(mode="json") for entry in entries])
            stored = await self._storage.write(
                BucketKind.COMMAND_LOGS,
                blob_name(day),
                body,
                content_type="application/x-ndjson",
                metadata={"day": day.isoformat(), "entries": str(len(entries)), "content-encoding": "gzip"},
            )
            exported.append(ExportedDay(day, blob_name(day), len(entries), stored.delivered))
        return exported

    async def export_recent(self) -> list[ExportedDay]:
        """The periodic job: yesterday (complete) and today (so far)."""
        return await self.export(self._clock.now().date() - timedelta(days=1))
