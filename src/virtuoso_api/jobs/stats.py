"""``GET /api/v1/jobs/stats``: the queue's depth and the jobs per status, for monitoring."""

from __future__ import annotations

from virtuoso_api.infra.documents import DocumentStore, Filter, Op, Query
from virtuoso_api.infra.tasks import Tasks
from virtuoso_api.jobs.models import COLLECTION, JobStats, JobStatus, QueueStats


async def job_stats(store: DocumentStore, tasks: Tasks) -> JobStats:
    report = await tasks.queue.report()
    queues = None
    if report.queues is not None:
        queues = [
            QueueStats(queue=q.queue, waiting=q.waiting, running=q.running, failed=q.failed)
            for q in report.queues
        ]
    return JobStats(
        backend=report.backend,
        queues=queues,
        pending_enqueues=await tasks.pending_enqueues(),
        jobs={status.value: await _count(store, status) for status in JobStatus},
    )


async def _count(store: DocumentStore, status: JobStatus) -> int:
    # The port has no count: pages of ids (jobs are kept 7 days, so this stays bounded).
    total, cursor = 0, None
    while True:
        page = await store.query(
            Query(COLLECTION, (Filter("status", Op.EQ, status.value),), limit=1000, cursor=cursor)
        )
        total += len(page.documents)
        if (cursor := page.next_cursor) is None:
            return total
