"""What an API key is, as stored and as shown."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from virtuoso_api.kit.json_values import JSON_INTEGER
from virtuoso_api.kit.metadata import Metadata
from virtuoso_api.kit.text import Text
from virtuoso_api.kit.timestamps import UtcDatetime

COLLECTION = "api_keys"

# A user id is also a document id (the caller's active session is stored under it).
_USER_ID = "[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}"
USER_ID_PATTERN = re.compile(_USER_ID)


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def implied(self) -> frozenset[Scope]:
        """A scope grants itself and every lower one: admin ⊃ write ⊃ read."""
        order = list(Scope)
        return frozenset(order[: order.index(self) + 1])


def effective_scopes(scopes: list[Scope]) -> frozenset[Scope]:
    granted: set[Scope] = set()
    for scope in scopes:
        granted |= scope.implied()
    return frozenset(granted)


class ApiKey(BaseModel):
    """A stored key. The key itself is never stored: only its SHA-256, compared in constant time."""

    model_config = ConfigDict(extra="ignore")

    key_id: str
    key_hash: str
    prefix: str = Field(description="The first characters of the key, to recognise it in a list")
    name: str
    user_id: str
    scopes: list[Scope]
    created_at: UtcDatetime
    valid_until: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ApiKeyView(BaseModel):
    """A key as listed: everything but the hash."""

    key_id: str
    prefix: str
    name: str
    user_id: str
    scopes: list[Scope]
    created_at: UtcDatetime
    valid_until: UtcDatetime | None
    revoked_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    metadata: dict[str, Any]

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        return cls.model_validate(key.model_dump(exclude={"key_hash"}))


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="The key itself. It is shown this once and cannot be recovered.")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ, Scope.WRITE], min_length=1)
    user_id: Annotated[Text, WithJsonSchema({"type": "string", "pattern": f"^{_USER_ID}$"})] | None = Field(
        default=None, description="Whose key this is; defaults to the name"
    )
    expires_in_days: Annotated[int, Field(ge=1, le=3650), JSON_INTEGER] | None = None
    metadata: Metadata = Field(default_factory=dict)

    @field_validator("user_id")
    @classmethod
    def _user_id_shape(cls, value: str | None) -> str | None:
        if value is not None and not USER_ID_PATTERN.fullmatch(value):
            raise ValueError("1 to 128 of letters, digits and . _ @ + -, starting with a letter or digit")
        return value


class Principal(BaseModel):
    """The authenticated caller of a request."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    user_id: str
    name: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes
