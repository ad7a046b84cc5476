"""A session as stored and as shown, and the bodies that create and change one."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from virtuoso_api.kit.ids import CheckpointId
from virtuoso_api.kit.timestamps import UtcDatetime

SESSIONS = "sessions"
ACTIVE_SESSIONS = "active_sessions"
_MAX_METADATA_BYTES = 16_384


def _small_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value)) > _MAX_METADATA_BYTES:
        raise ValueError(f"at most {_MAX_METADATA_BYTES} bytes of JSON")
    return value


class Session(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session_id: str
    user_id: str
    checkpoint_id: int | None = None
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SessionView(Session):
    """A session as answered over HTTP: with its expiry and whether it is the caller's active one."""

    expires_at: UtcDatetime
    active: bool


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint_id: CheckpointId = Field(description="A Virtuoso checkpoint id: 456 or cp_456")
    name: str | None = Field(default=None, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    activate: bool = Field(default=False, description="Also make it the caller's active session")

    _metadata = field_validator("metadata")(_small_metadata)


class SessionUpdate(BaseModel):
    """Only the fields present are changed; ``metadata`` is replaced as a whole."""

    model_config = ConfigDict(extra="forbid")

    checkpoint_id: CheckpointId | None = None
    name: str | None = Field(default=None, max_length=200)
    metadata: dict[str, Any] | None = None

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _small_metadata(value)
