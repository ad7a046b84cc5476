"""What caused the work being done: a request id, or a job id. Events carry it as ``correlationid``.

A context variable in the kit, so the HTTP middleware (which sets it per request) and the domain
services (which read it when they publish) need not know each other; a task handler sets its job id.
"""

from __future__ import annotations

import contextvars

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
