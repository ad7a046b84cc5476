"""``Idempotency-Key``: a retried request gets the first answer and repeats no side effect."""

from virtuoso_api.idempotency.service import Claim, IdempotencyService, StoredResponse

__all__ = ["Claim", "IdempotencyService", "StoredResponse"]
