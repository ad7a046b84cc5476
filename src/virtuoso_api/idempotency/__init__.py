"""Run work once per key: a retried request gets the first answer and repeats no side effect."""

from virtuoso_api.idempotency.service import HEADER, KEY_PATTERN, IdempotencyService, Once, OnceKey

__all__ = ["HEADER", "KEY_PATTERN", "IdempotencyService", "Once", "OnceKey"]
