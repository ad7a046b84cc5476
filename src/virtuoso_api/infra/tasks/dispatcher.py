"""The in-process dispatcher: leases due tasks from the local queue and runs the task handler.

It calls the same :data:`~virtuoso_api.infra.tasks.port.TaskHandler` that ``/internal/tasks/{kind}``
calls for Cloud Tasks, with the same :class:`~virtuoso_api.infra.tasks.port.Delivery`, so a job runs
the same way on either backend.

At most ``concurrency`` tasks run at once in a process. While a task runs, its lease is renewed
every third of its length; if a renewal finds the lease gone (this process stalled past it and
another took the task), the handler is cancelled, so one task never runs twice at once. At shutdown
it stops taking tasks, gives running ones ``grace_seconds`` to finish, then cancels them and hands
their tasks back (due at once, the attempt not counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.tasks.local_sqlite import LeasedTask, SqliteTaskQueue
from virtuoso_api.infra.tasks.port import Delivery, Finished, TaskHandler, TaskOutcome, run_handler

logger = logging.getLogger(__name__)


class LocalDispatcher:
    def __init__(
        self,
        queue: SqliteTaskQueue,
        handler: TaskHandler,
        *,
        concurrency: int,
        lease_seconds: float,
        poll_seconds: float = 0.5,
        grace_seconds: float = 10.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._queue = queue
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._grace = grace_seconds
        self.owner = f"dispatcher-{secrets.token_hex(6)}"
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.finished = 0  # tasks this dispatcher saw to an end (a counter tests and benchmarks read)

    async def run(self) -> None:
        """Take and run tasks until :meth:`stop`."""
        while not self._stopping.is_set():
            await self._slots.acquire()
            try:
                task = await self._queue.claim(self.owner, self._lease)
            except BackendUnavailable as exc:
                logger.warning("task queue: %s", exc.message)
                task = None
            if task is None:
                self._slots.release()
                await self._idle()
                continue
            runner = asyncio.create_task(self._run_one(task), name=f"task:{task.name}")
            self._running.add(runner)
            runner.add_done_callback(self._done)

    def _done(self, runner: asyncio.Task[None]) -> None:
        self._running.discard(runner)
        self._slots.release()

    async def _idle(self) -> None:
        """Wait for a task enqueued by this process, the next poll (other processes, delays), or stop."""
        arrived = asyncio.create_task(self._queue.arrived.wait())
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({arrived, stopping}, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrived.cancel()
            stopping.cancel()
        self._queue.arrived.clear()

    async def _run_one(self, task: LeasedTask) -> None:
        delivery = Delivery(
            name=task.name,
            kind=task.kind,
            payload=task.payload,
            attempt=task.attempt,
            max_attempts=self._queue.retry.max_attempts,
            queue=task.queue,
        )
        # A bug in a handler must not stop the dispatcher: run_handler makes it a RetryLater.
        work: asyncio.Task[TaskOutcome] = asyncio.ensure_future(run_handler(self._handler, delivery))
        keeper = asyncio.create_task(self._keep_lease(task, work))
        try:
            outcome = await work
        except asyncio.CancelledError:
            if keeper.done() and not keeper.cancelled():
                logger.warning("task %s: lease lost; another process runs it now", task.name)
                return
            raise  # shutting down: stop() hands the task back
        finally:
            keeper.cancel()
        try:
            if isinstance(outcome, Finished):
                await self._queue.complete(task.name, self.owner)
            else:
                await self._queue.retry_later(
                    task.name, self.owner, outcome.error, at_least=outcome.retry_after_seconds
                )
            self.finished += 1
        except BackendUnavailable as exc:  # the lease runs out and the task is delivered again
            logger.error("task %s: its outcome could not be recorded: %s", task.name, exc.message)

    async def _keep_lease(self, task: LeasedTask, work: asyncio.Task[TaskOutcome]) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                kept = await self._queue.renew(task.name, self.owner, self._lease)
            except BackendUnavailable:
                continue  # try again; the lease is long enough for a few failed renewals
            if not kept:
                work.cancel()
                return

    async def stop(self) -> None:
        self._stopping.set()
        running = set(self._running)
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=self._grace)
        for runner in late:
            runner.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for runner in late:
            name = runner.get_name().removeprefix("task:")
            with contextlib.suppress(BackendUnavailable):
                await self._queue.release(name, self.owner)


@contextlib.asynccontextmanager
async def dispatching(dispatcher: LocalDispatcher) -> AsyncIterator[LocalDispatcher]:
    loop = asyncio.create_task(dispatcher.run(), name="tasks:dispatcher")
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
