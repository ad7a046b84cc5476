"""One envelope for every event: CloudEvents 1.0 (structured JSON), with the owner and a correlation id.

CloudEvents names its attributes in lower-case letters and digits only, so the two extensions are
``owner`` (whose event it is: the user whose key or job caused it) and ``correlationid`` (the request
id, or the job id, that caused it). https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from virtuoso_api.events.types import EventType
from virtuoso_api.kit.timestamps import UtcDatetime

SOURCE = "/virtuoso-api"


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="unique per event; a consumer seeing it twice has seen one event")
    source: str = SOURCE
    type: EventType
    time: UtcDatetime
    subject: str | None = Field(default=None, description="what it is about: checkpoint/1001, session/...")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    owner: str
    correlationid: str | None = None
    traceparent: str | None = Field(
        default=None,
        description="W3C trace context of the work that published it (CloudEvents distributed tracing)",
    )
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        return cls.model_validate_json(raw)

    @property
    def ordering_key(self) -> str:
        """Events about one checkpoint reach every consumer in the order they were published."""
        checkpoint = self.data.get("checkpoint_id")
        return f"checkpoint:{checkpoint}" if checkpoint is not None else ""
