"""The "accepted, not yet delivered" log: work a backend could not take now, kept until it can.

History writes to a remote store today, events and task enqueues next: each is a *channel* with a
sender. :meth:`OutboxChannel.deliver` sends at once while the backend answers and, when it raises
:class:`~virtuoso_api.errors.BackendUnavailable`, appends the payload to a local SQLite log instead;
the caller sees success either way, and nothing accepted is lost. Once anything waits in a channel,
later payloads queue behind it, so the backend receives them in the order they were accepted.
:meth:`Outbox.flush` replays each channel in order and removes an entry only after it landed (a crash
mid-flush replays rather than loses: senders must be idempotent, as puts with fixed ids are). A payload
the backend refuses for good moves to the dead letters instead of blocking those behind it.

The log keeps a pending count per channel, maintained by the database itself, so readiness reads one
row instead of every entry.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from virtuoso_api.config import Settings
from virtuoso_api.infra.outbox.channel import Outbox, OutboxChannel, Send
from virtuoso_api.infra.outbox.log_sqlite import DeadLetter, LogEntry, SqliteOutboxLog
from virtuoso_api.kit.clock import Clock

__all__ = [
    "DeadLetter",
    "LogEntry",
    "Outbox",
    "OutboxChannel",
    "Send",
    "SqliteOutboxLog",
    "build_outbox",
]


@asynccontextmanager
async def build_outbox(settings: Settings, *, clock: Clock) -> AsyncIterator[Outbox]:
    """The outbox in ``DATA_DIR/outbox.sqlite3``, whatever the flags: it is where work for any remote
    backend waits while that backend is down. Closed on exit (after the root's last flush)."""
    log = SqliteOutboxLog(settings.data_dir / "outbox.sqlite3", clock=clock)
    try:
        yield Outbox(log)
    finally:
        await log.close()
