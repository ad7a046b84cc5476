"""A session as stored and as shown, and the bodies that create and change one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from virtuoso_api.kit.json_values import JsonBool, not_null
from virtuoso_api.kit.metadata import Metadata
from virtuoso_api.kit.text import Text
from virtuoso_api.kit.timestamps import UtcDatetime
from virtuoso_api.virtuoso.ids import CheckpointId

SESSIONS = "sessions"
ACTIVE_SESSIONS = "active_sessions"


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
    name: Text | None = Field(default=None, max_length=200)
    metadata: Metadata = Field(default_factory=dict)
    activate: JsonBool = Field(default=False, description="Also make it the caller's active session")


class SessionUpdate(BaseModel):
    """Only the fields present are changed. ``metadata`` is replaced as a whole (``null`` clears it);
    ``name: null`` removes the name; a session's checkpoint can be changed but not removed."""

    model_config = ConfigDict(extra="forbid")

    # Left out, the checkpoint stays; null is refused (below), and not offered.
    checkpoint_id: CheckpointId | None = Field(default=None, json_schema_extra=not_null)
    name: Text | None = Field(default=None, max_length=200)
    metadata: Metadata | None = None

    @field_validator("checkpoint_id", mode="before")
    @classmethod
    def _keep_a_checkpoint(cls, value: Any) -> Any:
        if value is None:  # only reached when the caller sent null explicitly
            raise ValueError("a session's checkpoint can be changed but not removed")
        return value

    @field_validator("metadata")
    @classmethod
    def _null_clears(cls, value: dict[str, Any] | None) -> dict[str, Any]:
        return value or {}

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, as they are to be stored."""
        return self.model_dump(include=self.model_fields_set)
