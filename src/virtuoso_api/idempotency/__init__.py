"""``Idempotency-Key``: a retried request gets the first answer and repeats no side effect."""

from virtuoso_api.idempotency.service import HEADER, Claim, IdempotencyService, StoredResponse

__all__ = ["HEADER", "Claim", "IdempotencyService", "StoredResponse"]
