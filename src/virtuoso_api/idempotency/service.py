"""Run a piece of work once per key: ``Idempotency-Key`` on HTTP routes, and (next) job ids in tasks.

:meth:`IdempotencyService.run_once` first *claims* the key: an atomic create of a short-lived
"running" record. The work then runs, and its result is *kept* for a day under the key when it
changed something; a later call with the same key and the same payload gets that result back, and
nothing runs twice. A call while the first still runs is a 409; the same key with another payload is
a 422. If the process dies mid-way the claim expires after the lease and a retry may run.

A caller whose work is safe to resume (a job's command checks what an interrupted attempt left)
passes ``take_over=True``: a claim whose holder process is known to be gone (same host) is then taken
over at once rather than after the lease, by exactly one caller (an atomic create of a successor
record decides who).

Work that changed nothing (it failed before any effect, or its result says so) *releases* the key,
so a retry really runs; so does any exception, expected or not, so a key is never left "running"
for the length of the lease by a failure the caller already saw.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from virtuoso_api.errors import Conflict, InvalidInput
from virtuoso_api.infra.documents import DocumentAlreadyExists, DocumentStore
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs
from virtuoso_api.kit.processes import holder, is_gone

COLLECTION = "idempotency"
HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_LEASE = timedelta(minutes=2)
_KEEP = timedelta(hours=24)

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OnceKey:
    """Who asks (``owner``), for what (``scope``: a route, a job kind), under which key, with what
    payload (compared on a replay)."""

    owner: str
    scope: str
    key: str
    payload: Any

    @property
    def doc_id(self) -> str:
        # Keys are per owner and per scope: two users, or two routes, may use the same key.
        return hashlib.sha256(f"{self.owner}\0{self.scope}\0{self.key}".encode()).hexdigest()

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Once(Generic[T]):
    value: T
    replayed: bool


class IdempotencyService:
    def __init__(self, store: DocumentStore, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def needs(self) -> Needs:
        return Needs(expiring_collections=(COLLECTION,))

    async def run_once(
        self,
        key: OnceKey | None,
        work: Callable[[], Awaitable[T]],
        *,
        result_type: TypeAdapter[T],
        changed: Callable[[T], bool] = lambda _: True,
        lease: timedelta = _LEASE,
        take_over: bool = False,
    ) -> Once[T]:
        """``work()``'s result, run at most once per ``key`` (every time when ``key`` is None).

        ``result_type`` stores and restores the result; ``changed(result)`` says whether it did
        something worth not repeating (otherwise the key is released). ``lease`` is how long a claim
        whose holder stopped answering blocks others; ``take_over`` (see the module docstring)."""
        if key is None:
            return Once(await work(), replayed=False)
        stored = await self._claim(key, lease, take_over)
        if stored is not None:
            return Once(result_type.validate_python(stored), replayed=True)
        try:
            result = await work()
        except BaseException:
            await self._release(key)
            raise
        if changed(result):
            record = {
                "state": "done",
                "fingerprint": key.fingerprint,
                "result": result_type.dump_python(result, mode="json"),
            }
            await self._store.put(COLLECTION, key.doc_id, record, expires_at=self._clock.now() + _KEEP)
        else:
            await self._release(key)
        return Once(result, replayed=False)

    async def _claim(self, key: OnceKey, lease: timedelta, take_over: bool) -> Any | None:
        """Claim ``key`` (``None``), or the result kept under it."""
        if not _KEY.fullmatch(key.key):
            raise InvalidInput(f"header {HEADER}", "1 to 255 printable ASCII characters without spaces")
        digest = key.fingerprint
        state = {"state": "running", "fingerprint": digest, "holder": holder()}
        for _ in range(3):
            try:
                await self._store.create(COLLECTION, key.doc_id, state, expires_at=self._clock.now() + lease)
                return None
            except DocumentAlreadyExists:
                pass
            document = await self._store.get(COLLECTION, key.doc_id)
            if document is None:  # it expired between the two calls: claim again
                continue
            if document.data["fingerprint"] != digest:
                raise InvalidInput(f"header {HEADER}", "was already used with a different request body")
            if document.data["state"] == "running":
                gone = take_over and is_gone(document.data.get("holder") or {})
                if gone and await self._take_over(key.doc_id, document.data, state, lease):
                    return None
                raise Conflict(f"a request with this {HEADER} is still running; retry later")
            return document.data["result"]
        raise Conflict(f"a request with this {HEADER} keeps changing; retry later")

    async def _take_over(
        self, doc_id: str, dead: dict[str, Any], state: dict[str, Any], lease: timedelta
    ) -> bool:
        """Replace a dead holder's claim with ours; only the caller whose successor record is created
        first wins (the others see AlreadyExists), so two never take over the same claim."""
        successor = hashlib.sha256(f"{doc_id}\0{dead['holder'].get('instance')}".encode()).hexdigest()
        until = self._clock.now() + lease
        try:
            await self._store.create(COLLECTION, successor, {"state": "taken-over"}, expires_at=until)
        except DocumentAlreadyExists:
            return False
        await self._store.put(COLLECTION, doc_id, state, expires_at=until)
        return True

    async def _release(self, key: OnceKey) -> None:
        try:
            await self._store.delete(COLLECTION, key.doc_id)
        except Exception:  # the lease expires by itself; the original error matters more
            logger.exception("could not release an idempotency key")
