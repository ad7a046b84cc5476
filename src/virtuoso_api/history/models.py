"""A history entry, the filters a caller may query by, and a page of results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from virtuoso_api.kit.timestamps import UtcDatetime

COLLECTION = "command_history"


class Source(StrEnum):
    HTTP = "http"
    CLI = "cli"
    TASK = "task"
    FACADE = "facade"


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entry_id: str
    user_id: str
    key_id: str | None = None
    session_id: str | None = None
    checkpoint_id: int | None = None
    command: str
    args: list[str]
    success: bool
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = Field(default=None, description="{type, message} when it failed")
    duration_ms: float | None = None
    source: Source = Source.HTTP
    timestamp: UtcDatetime


class HistoryFilters(BaseModel):
    """Equality filters and a lower time bound; ``None`` means "any"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str | None = None
    checkpoint_id: int | None = None
    session_id: str | None = None
    command: str | None = None
    success: bool | None = None
    since: datetime | None = None


class HistoryPage(BaseModel):
    entries: list[HistoryEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")
