"""A Virtuoso-compatible sandbox: a real HTTP server for tests and demos, with in-memory state.

It serves the paths of Virtuoso's API under ``/api``, checks the bearer token, answers Virtuoso's
envelopes (or bare objects with ``?envelope=false``) and status codes, and refuses bad values (unknown
ids 404; unknown step actions, selectors without a kind, GUESS clues that are not JSON, out-of-range
positions 400) while accepting fields it does not know, as nothing shows Virtuoso refusing them.

Runs follow the lifecycle the evidence shows (``reference/virtuoso-evidence.md``): QUEUED → RUNNING →
FINISHED with a separate ``outcome``; a step containing ``sandbox:fail`` fails (see
``executions.py``); the test controls under ``/_sandbox`` cancel or abort a run, answer 429 and count
requests. What only the original system shows (``POST /teststeps`` field names, the analysis,
environments and test-data endpoints) is served as the original used it and marked UNVERIFIED.
Seeded ids are in :data:`SEED` (checkpoint 1001 is ready for steps, plan 501 runs goal 201).
"""

from virtuoso_api.sandbox.app import (
    BASE_PATH,
    DEFAULT_TOKEN,
    OBSERVER_HEADER,
    STEP_SECONDS,
    create_sandbox_app,
)
from virtuoso_api.sandbox.executions import FAIL_MARKER
from virtuoso_api.sandbox.seed import SEED, SeedIds

__all__ = [
    "BASE_PATH",
    "DEFAULT_TOKEN",
    "FAIL_MARKER",
    "OBSERVER_HEADER",
    "SEED",
    "STEP_SECONDS",
    "SeedIds",
    "create_sandbox_app",
]
