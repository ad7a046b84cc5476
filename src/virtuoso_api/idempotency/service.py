"""Idempotency keys over the documents port.

A request with a key first *claims* it: an atomic create of a short-lived "in progress" record. The
request then runs and *completes* the claim with its answer, kept for a day; a retry with the same key
and the same body gets that answer back, and nothing runs twice. A retry while the first is still
running is a 409; the same key with a different body is a 422. If the first request dies, its claim
expires after the lease and a retry may run.

A request that failed because a backend was unavailable *releases* its claim instead: nothing was
done, so a retry must be allowed to do it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from virtuoso_api.errors import Conflict, InvalidInput
from virtuoso_api.infra.documents import DocumentAlreadyExists, DocumentStore
from virtuoso_api.kit.clock import Clock

COLLECTION = "idempotency"
HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_LEASE = timedelta(minutes=2)
_KEEP = timedelta(hours=24)


class StoredResponse(BaseModel):
    status_code: int
    body: Any


@dataclass(frozen=True)
class Claim:
    """The right to run a request once; ``replay`` is set when it already ran."""

    doc_id: str
    fingerprint: str
    replay: StoredResponse | None = None


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class IdempotencyService:
    def __init__(self, store: DocumentStore, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def claim(self, user_id: str, key: str, *, scope: str, payload: Any) -> Claim:
        if not _KEY.fullmatch(key):
            raise InvalidInput(f"header {HEADER}", "1 to 255 printable ASCII characters without spaces")
        # Keys are per caller and per route: two users, or two routes, may use the same key.
        doc_id = hashlib.sha256(f"{user_id}\0{scope}\0{key}".encode()).hexdigest()
        digest = fingerprint(payload)
        state = {"state": "running", "fingerprint": digest}
        try:
            await self._store.create(COLLECTION, doc_id, state, expires_at=self._clock.now() + _LEASE)
            return Claim(doc_id, digest)
        except DocumentAlreadyExists:
            pass
        document = await self._store.get(COLLECTION, doc_id)
        if document is None:  # it expired between the two calls: claim again
            return await self.claim(user_id, key, scope=scope, payload=payload)
        if document.data["fingerprint"] != digest:
            raise InvalidInput(f"header {HEADER}", "was already used with a different request body")
        if document.data["state"] == "running":
            raise Conflict(f"a request with this {HEADER} is still running; retry later")
        return Claim(doc_id, digest, StoredResponse.model_validate(document.data["response"]))

    async def complete(self, claim: Claim, response: StoredResponse) -> None:
        record = {
            "state": "done",
            "fingerprint": claim.fingerprint,
            "response": response.model_dump(mode="json"),
        }
        await self._store.put(COLLECTION, claim.doc_id, record, expires_at=self._clock.now() + _KEEP)

    async def release(self, claim: Claim) -> None:
        await self._store.delete(COLLECTION, claim.doc_id)
