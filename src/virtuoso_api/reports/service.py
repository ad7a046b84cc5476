"""Publishing reports: a :class:`ReportModel` rendered three ways and stored in the results bucket
through the storage service (the outbox: accepted now, stored once the bucket answers).

Blobs: ``runs/{id}/result.json``, ``runs/{id}/junit.xml``, ``runs/{id}/report.html`` (a suite run:
``suite-runs/{id}/...``). ``links`` signs a link to each, absolute on ``PUBLIC_BASE_URL`` locally.

:class:`RunReports` is what the runs domain calls when a run ends (``RunService.report_to``); a suite
run is published with ``ReportService.publish(model)`` given its steps with their lines.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.reports.from_run import run_report
from virtuoso_api.reports.model import ReportKind, ReportModel
from virtuoso_api.reports.render import html_api_docs, html_index, html_report, junit_xml, result_json
from virtuoso_api.runs.models import RunView
from virtuoso_api.runs.service import RunService
from virtuoso_api.storage import BucketKind, StorageService

logger = logging.getLogger(__name__)

#: The report's files, in the order their links are listed.
FILES: Final = {
    "html": ("report.html", "text/html; charset=utf-8"),
    "json": ("result.json", "application/json"),
    "junit": ("junit.xml", "application/xml"),
}
INDEX: Final = "reports/index.html"
_INDEX_EVERY_SECONDS: Final = 3600.0
DOCS: Final = ("docs/index.html", "docs/openapi.json")


class ReportService:
    def __init__(self, storage: StorageService) -> None:
        self._storage = storage

    def needs(self) -> Needs:
        """The reports index is published again every hour (its links last STORAGE_SIGNED_URL_MINUTES)."""
        return Needs(
            periodic=(PeriodicJob("publish the reports index", _INDEX_EVERY_SECONDS, self.publish_index),)
        )

    async def publish(self, model: ReportModel) -> dict[str, str]:
        """Render and store the report; its signed links (the blobs appear once the store answers)."""
        bodies = {"html": html_report(model), "json": result_json(model), "junit": junit_xml(model)}
        metadata = {"kind": model.kind.value, "id": model.id, "outcome": model.outcome.value}
        for key, (file, content_type) in FILES.items():
            await self._storage.write(
                BucketKind.RESULTS,
                f"{model.folder}/{file}",
                bodies[key],
                content_type=content_type,
                metadata=metadata,
            )
        return await self.links(model.kind, model.id)

    async def links(self, kind: ReportKind, report_id: str) -> dict[str, str]:
        folder = f"{'runs' if kind is ReportKind.RUN else 'suite-runs'}/{report_id}"
        return {
            key: await self._storage.link(BucketKind.RESULTS, f"{folder}/{file}")
            for key, (file, _) in FILES.items()
        }

    async def publish_index(self) -> str:
        """The reports index (every stored report, newest first, each a signed link) in the static
        bucket; its own signed link."""
        entries: list[tuple[str, str, str]] = []
        token: str | None = None
        bucket = self._storage.buckets[BucketKind.RESULTS]
        while True:
            page = await self._storage.store.list(bucket, limit=500, page_token=token)
            for info in page.blobs:
                if info.name.endswith("/report.html"):
                    label = f"{info.name.removesuffix('/report.html')} · {info.metadata.get('outcome', '?')}"
                    entries.append((info.updated.isoformat(), label, info.name))
            token = page.next_token
            if token is None:
                break
        entries.sort(reverse=True)
        linked = [(label, await self._storage.link(BucketKind.RESULTS, name)) for _, label, name in entries]
        body = html_index(linked, title="Virtuoso reports")
        await self._storage.write(BucketKind.STATIC, INDEX, body, content_type="text/html; charset=utf-8")
        return await self._storage.link(BucketKind.STATIC, INDEX)

    async def publish_docs(self, document: dict[str, Any]) -> dict[str, str]:
        """The API's docs as static assets: the OpenAPI document and a self-contained page of its
        operations; their signed links."""
        page, raw = DOCS
        body = json.dumps(document, indent=2).encode()
        await self._storage.write(BucketKind.STATIC, raw, body, content_type="application/json")
        html = html_api_docs(document)
        await self._storage.write(BucketKind.STATIC, page, html, content_type="text/html; charset=utf-8")
        return {
            "html": await self._storage.link(BucketKind.STATIC, page),
            "openapi": await self._storage.link(BucketKind.STATIC, raw),
        }


class RunReports:
    """The runs domain's reporter: a report when a run ends, links in the run's answer."""

    def __init__(self, reports: ReportService, runs: RunService) -> None:
        self._reports = reports
        self._runs = runs

    async def run_ended(self, view: RunView) -> None:
        details = await self._runs.details(view)
        await self._reports.publish(run_report(details))

    async def links(self, view: RunView) -> dict[str, str] | None:
        if not view.finished:
            return None
        return await self._reports.links(ReportKind.RUN, str(view.execution_id))
