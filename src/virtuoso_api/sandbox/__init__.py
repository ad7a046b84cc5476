"""A Virtuoso-compatible sandbox: a real HTTP server for tests and demos, with in-memory state.

It serves the paths of Virtuoso's API (``reference/original-system.md`` §1.2) under ``/api``, checks the
bearer token, answers Virtuoso's envelopes and status codes, and refuses what Virtuoso would refuse
(unknown ids 404; unknown fields, unknown step actions, malformed selectors, out-of-range positions 400).
Executions progress with the clock; a step containing ``sandbox:fail`` fails (see ``executions.py``).
Seeded ids are in :data:`SEED` (checkpoint 1001 is ready for steps).
"""

from virtuoso_api.sandbox.app import BASE_PATH, DEFAULT_TOKEN, OBSERVER_HEADER, create_sandbox_app
from virtuoso_api.sandbox.executions import FAIL_MARKER, QUEUED_SECONDS, STEP_SECONDS
from virtuoso_api.sandbox.seed import SEED, SeedIds

__all__ = [
    "BASE_PATH",
    "DEFAULT_TOKEN",
    "FAIL_MARKER",
    "OBSERVER_HEADER",
    "QUEUED_SECONDS",
    "SEED",
    "STEP_SECONDS",
    "SeedIds",
    "create_sandbox_app",
]
