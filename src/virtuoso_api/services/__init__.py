"""The composition root: every capability built once, the domain services over them, closed in order.

The HTTP app, the CLI and the Python facade all start the same :class:`Services`, so a key made with
``virtuoso-api keys create`` is the key the server checks. Each capability has one ``build_*`` async
context manager that picks its local or Google Cloud adapter from :class:`Settings` and wraps it in
what it needs (the resilience kit, the outbox); they are entered on one ``AsyncExitStack``, so they
close in the reverse order of their building, never by hand. Domains declare their
:class:`~virtuoso_api.kit.lifecycle.Needs` (expiring collections, periodic jobs, work at start and at
shutdown); the root only collects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

from virtuoso_api.api_keys.service import ApiKeyService
from virtuoso_api.cache.service import CacheService
from virtuoso_api.commands.service import CommandService
from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.events.service import EventsService
from virtuoso_api.history.service import HistoryService
from virtuoso_api.idempotency.service import IdempotencyService
from virtuoso_api.infra.blobs import BlobStore
from virtuoso_api.infra.documents import Documents, DocumentStore, build_documents
from virtuoso_api.infra.events import Events, build_events
from virtuoso_api.infra.outbox import Outbox, build_outbox
from virtuoso_api.infra.tasks import Tasks, build_tasks
from virtuoso_api.jobs.handlers import BatchJob, CommandJob, JobHandlers
from virtuoso_api.jobs.models import JobKind
from virtuoso_api.jobs.runner import RunDeps
from virtuoso_api.jobs.service import JobService
from virtuoso_api.kit.clock import Clock, SystemClock, sleeper
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob, running_periodically
from virtuoso_api.reports import ReportService, RunReports
from virtuoso_api.runs import PollPolicy, RunService
from virtuoso_api.runs.normalise import ui_base_for
from virtuoso_api.secrets import SecretsService
from virtuoso_api.services.blobs import build_blobs
from virtuoso_api.services.secrets import build_secrets_service
from virtuoso_api.services.telemetry import build_telemetry, record_queue_depths
from virtuoso_api.services.virtuoso import VirtuosoConnection, build_virtuoso
from virtuoso_api.sessions.service import SessionService
from virtuoso_api.storage import StorageService
from virtuoso_api.storage.logs_export import LogExporter
from virtuoso_api.suites.job import SuiteJob
from virtuoso_api.suites.service import SuiteService
from virtuoso_api.suites.store import SuiteRuns
from virtuoso_api.telemetry import DISABLED, Telemetry
from virtuoso_api.webhooks.service import WebhookService

__all__ = ["Capabilities", "Services", "VirtuosoConnection"]

logger = logging.getLogger(__name__)

_CLEANUP_EVERY_SECONDS = 600
_GAUGES_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the ``build_*`` factories made, each already local or Google Cloud as the flags say."""

    outbox: Outbox
    documents: Documents
    events: Events
    secrets: SecretsService
    virtuoso: VirtuosoConnection
    tasks: Tasks
    blobs: BlobStore
    telemetry: Telemetry


@dataclass
class Services:
    settings: Settings
    clock: Clock
    outbox: Outbox
    documents_capability: Documents
    api_keys: ApiKeyService
    sessions: SessionService
    history: HistoryService
    idempotency: IdempotencyService
    cache: CacheService
    virtuoso: VirtuosoConnection
    runs: RunService
    commands: CommandService
    tasks: Tasks
    jobs: JobService
    secrets: SecretsService
    events: EventsService
    webhooks: WebhookService
    storage: StorageService
    reports: ReportService
    log_exporter: LogExporter
    suites: SuiteService
    needs: list[Needs] = field(default_factory=list)
    telemetry: Telemetry = field(default_factory=lambda: DISABLED)

    @property
    def documents(self) -> DocumentStore:
        return self.documents_capability.store

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, settings: Settings, *, clock: Clock | None = None, background: bool = False
    ) -> AsyncIterator[Services]:
        """Build every capability, yield, then finish the domains' work and close them.

        ``background`` runs the domains' periodic jobs and start-up work, as a server needs; a CLI
        command that runs once does without them."""
        clock = clock or SystemClock()
        async with contextlib.AsyncExitStack() as stack:
            enter = stack.enter_async_context
            # First: every capability built after it is traced and counted, and it closes last.
            telemetry = await enter(build_telemetry(settings))
            outbox = await enter(build_outbox(settings, clock=clock))
            documents = await enter(build_documents(settings, clock=clock, outbox=outbox))
            events = await enter(build_events(settings, clock=clock))
            secrets = await enter(build_secrets_service(settings, clock=clock))
            virtuoso = await enter(build_virtuoso(settings, clock=clock, secrets=secrets))
            tasks = await enter(build_tasks(settings, clock=clock, outbox=outbox))
            blobs = await enter(build_blobs(settings, clock=clock, secrets=secrets))
            built = Capabilities(outbox, documents, events, secrets, virtuoso, tasks, blobs, telemetry)
            services = cls._wire(settings, clock, built)
            stack.push_async_callback(services._shut_down)
            if background:
                await enter(running_periodically(services._periodic_jobs()))
                for job in (job for needs in services.needs for job in needs.at_start):
                    task = asyncio.create_task(_logged(job))
                    stack.push_async_callback(_cancel, task)
                # Local queue: this process runs tasks too (stopped first at shutdown, entered last).
                await enter(tasks.dispatching(services.jobs.handle_task))
            yield services

    @classmethod
    def _wire(cls, settings: Settings, clock: Clock, built: Capabilities) -> Services:
        store = built.documents.store
        writes = built.documents.writes
        virtuoso = built.virtuoso
        events = EventsService(built.events, built.outbox, clock=clock, data_dir=settings.data_dir)
        publisher = events.publisher
        built.secrets.announce_to(publisher)
        sessions = SessionService(
            store, clock=clock, ttl_seconds=settings.session_ttl_seconds, events=publisher
        )
        history = HistoryService(store, clock=clock, writes=writes)
        # The longest a Virtuoso call can take: every attempt timing out, with the pauses between.
        longest = timedelta(seconds=settings.virtuoso_timeout_seconds * settings.virtuoso_retry_attempts + 10)
        runs = RunService(
            virtuoso=virtuoso.client,
            store=store,
            writes=writes,
            clock=clock,
            sleep=sleeper(clock),
            policy=PollPolicy(
                first_seconds=settings.run_poll_seconds,
                max_seconds=max(settings.run_poll_max_seconds, settings.run_poll_seconds),
                unreachable_seconds=settings.run_unreachable_seconds,
            ),
            ui_base=ui_base_for(virtuoso.base_url, str(settings.virtuoso_ui_url or "") or None),
            events=publisher,
        )
        storage = StorageService(built.blobs, settings=settings, clock=clock, outbox=built.outbox)
        reports = ReportService(storage)
        log_exporter = LogExporter(history, storage, clock=clock)
        runs.report_to(RunReports(reports, runs))
        commands = CommandService(
            virtuoso=virtuoso.client,
            runs=runs,
            sessions=sessions,
            history=history,
            store=store,
            writes=writes,
            clock=clock,
            position_trust_seconds=settings.step_position_cache_seconds,
            longest_virtuoso_call=longest,
            events=publisher,
        )
        api_keys = ApiKeyService(
            store, clock=clock, cache_seconds=settings.api_key_cache_seconds, events=publisher
        )
        idempotency = IdempotencyService(store, clock=clock)
        cache = CacheService(store, clock=clock, default_ttl_seconds=settings.cache_ttl_seconds)
        handlers = JobHandlers()
        handlers.register(JobKind.COMMAND, CommandJob())
        handlers.register(JobKind.BATCH, BatchJob(sessions, parallelism=settings.batch_parallelism))
        run_deps = RunDeps(
            store=store,
            commands=commands,
            history=history,
            idempotency=idempotency,
            clock=clock,
            # A job command's claim outlives any Virtuoso call its holder might still be making.
            claim_lease=longest + timedelta(seconds=30),
        )
        suite_runs = SuiteRuns(store, clock=clock)
        handlers.register(
            JobKind.SUITE,
            SuiteJob(
                virtuoso=virtuoso.client,
                runs=runs,
                stored=suite_runs,
                clock=clock,
                default_project=settings.suite_default_project,
                reports=reports,
            ),
        )
        jobs = JobService(
            store,
            tasks=built.tasks,
            idempotency=idempotency,
            handlers=handlers,
            deps=run_deps,
            clock=clock,
            events=publisher,
        )
        suites = SuiteService(jobs=jobs, stored=suite_runs, runs=runs, reports=reports)
        webhooks = WebhookService(
            store, built.events.bus, clock=clock, events=publisher, secrets=built.secrets, settings=settings
        )
        needs = [
            storage.needs(),
            log_exporter.needs(),
            reports.needs(),
            api_keys.needs(flush_every_seconds=settings.api_key_last_used_flush_seconds),
            sessions.needs(),
            cache.needs(),
            idempotency.needs(),
            commands.needs(),
            jobs.needs(),
            built.tasks.needs(),
            runs.needs(),
            built.secrets.needs(),
            virtuoso.needs(),
            events.needs(),
            webhooks.needs(),
            suites.needs(),
            _telemetry_needs(built.telemetry, built.tasks),
        ]
        return cls(
            settings=settings,
            clock=clock,
            outbox=built.outbox,
            documents_capability=built.documents,
            api_keys=api_keys,
            sessions=sessions,
            history=history,
            idempotency=idempotency,
            cache=cache,
            virtuoso=virtuoso,
            runs=runs,
            commands=commands,
            tasks=built.tasks,
            jobs=jobs,
            secrets=built.secrets,
            events=events,
            webhooks=webhooks,
            storage=storage,
            reports=reports,
            log_exporter=log_exporter,
            suites=suites,
            needs=needs,
            telemetry=built.telemetry,
        )

    def expiring_collections(self) -> tuple[str, ...]:
        return tuple(name for needs in self.needs for name in needs.expiring_collections)

    def _periodic_jobs(self) -> list[PeriodicJob]:
        return [
            *(job for needs in self.needs for job in needs.periodic),
            PeriodicJob("delete expired documents", _CLEANUP_EVERY_SECONDS, self.cleanup_expired),
            PeriodicJob("flush the outbox", self.settings.outbox_flush_seconds, self.outbox.flush),
        ]

    async def _shut_down(self) -> None:
        """The domains' shutdown work, then one last flush of the outbox, within
        ``SHUTDOWN_FLUSH_SECONDS``: on Cloud Run, SIGKILL follows SIGTERM after 10 s, and an instance's
        disk goes with it, so what is not delivered by then is lost; stopping on time at least lets
        everything else close."""
        budget = self.settings.shutdown_flush_seconds
        try:
            async with asyncio.timeout(budget):
                for job in (job for needs in self.needs for job in needs.at_shutdown):
                    await _logged(job)
                with contextlib.suppress(BackendUnavailable):  # what is left waits in the outbox file
                    await self.outbox.flush()
        except TimeoutError:
            logger.warning("shutdown work stopped after SHUTDOWN_FLUSH_SECONDS (%s s)", budget)
        left = await self.outbox.log.pending()
        if left:
            logger.warning("%d deliveries left in the outbox at shutdown", left)

    async def pending_deliveries(self) -> int:
        """Work accepted but not yet delivered to its backend (one read of the stored counts)."""
        return await self.outbox.log.pending()

    async def cleanup_expired(self) -> dict[str, int]:
        """Delete expired documents of every collection a domain declared expiring; counts each.

        Expired documents already read as absent; this reclaims their space (Firestore's TTL policy
        does the same on its own, see README)."""
        removed: dict[str, int] = {}
        for collection in self.expiring_collections():
            total = 0
            while (count := await self.documents.delete_expired(collection)) > 0:
                total += count
            removed[collection] = total
        return removed


def _telemetry_needs(telemetry: Telemetry, tasks: Tasks) -> Needs:
    """The queue depths read for the metrics (before each scrape, and for the exporters every 30 s)."""
    record_queue_depths(telemetry, tasks)
    if not telemetry.refreshers:
        return Needs()
    return Needs(periodic=(PeriodicJob("read the metrics' gauges", _GAUGES_SECONDS, telemetry.refresh),))


async def _logged(job: object) -> None:
    try:
        await job()  # type: ignore[operator]
    except Exception:
        logger.exception("%s failed", getattr(job, "__qualname__", job))


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
