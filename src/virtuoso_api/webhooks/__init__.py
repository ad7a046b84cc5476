"""Webhooks: signed deliveries of a caller's events, retries on a schedule, and dead letters."""
