"""Timestamps stored as fixed-width UTC strings.

Documents are JSON in both stores, and history is ordered and range-filtered by time. A fixed-width
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` sorts the same as the instant it names, as a string, in SQLite and in
Firestore alike; ``datetime.isoformat()`` drops the fraction when it is zero, which breaks that order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(value: datetime) -> str:
    return as_utc(value).strftime(_FORMAT)


def parse_timestamp(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC: every clock in this service is."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
