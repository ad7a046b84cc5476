"""What the service keeps as secrets: each :class:`SecretType`, the fields its value holds, and its name.

A secret's name is ``{ENVIRONMENT}-{type}`` (``production-virtuoso-api-key``), and
``{ENVIRONMENT}-{type}-{name}`` for a type that has one per thing (``production-webhook-signing-key-orders``),
so one Secret Manager project can serve several environments without one reading another's secrets.

A value is a small JSON object validated by its type's model. Fields holding the secret are
``SecretStr``: their ``repr`` is masked, and the domain registers them with the redactor the moment
they are read or stored. A version that is not JSON (one added by hand: ``gcloud secrets versions add
--data-file=token.txt``) is read as the type's one secret field, so a plain token file works as is.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from virtuoso_api.errors import InvalidInput
from virtuoso_api.kit.text import one_clean_line

_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


class SecretType(StrEnum):
    #: Virtuoso's API token and organization: ``{"api_key": ..., "org_id": ...}``.
    VIRTUOSO_API_KEY = "virtuoso-api-key"
    #: A signing key kept per ``name`` (a receiver's, a partner's): ``{"key": ...}``. The service's own
    #: webhooks keep their ``whsec_`` secrets sealed under the one key below instead.
    WEBHOOK_SIGNING_KEY = "webhook-signing-key"
    #: The key every webhook's signing secret is sealed under in the documents store (envelope
    #: encryption; one secret, rotatable): ``{"key": ...}``.
    WEBHOOK_SEALING_KEY = "webhook-sealing-key"
    #: The key signing URLs of locally stored blobs: ``{"key": ...}``.
    BLOB_SIGNING_KEY = "blob-signing-key"


class SecretValue(BaseModel):
    """Base of every type's value. ``secret_fields`` name the fields that are the secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def secret_texts(self) -> list[str]:
        return [getattr(self, name).get_secret_value() for name in self.secret_fields]

    def plain(self) -> dict[str, Any]:
        """Every field with the secret ones revealed: what is stored, and what a caller asked for."""
        data = self.model_dump(mode="python")
        for name in self.secret_fields:
            data[name] = getattr(self, name).get_secret_value()
        return data

    def encode(self) -> bytes:
        return json.dumps(self.plain(), separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def generate(cls) -> SecretValue | None:
        """A fresh random value, for types the service can make itself; ``None`` for the others."""
        return None


class VirtuosoApiKey(SecretValue):
    secret_fields = ("api_key",)

    api_key: SecretStr
    org_id: int | None = Field(default=None, ge=1)

    @field_validator("api_key", mode="before")
    @classmethod
    def _header_safe(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            cleaned = one_clean_line(value)
            if cleaned is None:
                raise ValueError("must not be empty")
            return cleaned
        return value


class SigningKey(SecretValue):
    secret_fields = ("key",)

    key: SecretStr

    @field_validator("key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (use --generate for a random one)")
        return value

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(key=SecretStr(secrets.token_urlsafe(32)))


VALUE_MODELS: Final[dict[SecretType, type[SecretValue]]] = {
    SecretType.VIRTUOSO_API_KEY: VirtuosoApiKey,
    SecretType.WEBHOOK_SIGNING_KEY: SigningKey,
    SecretType.WEBHOOK_SEALING_KEY: SigningKey,
    SecretType.BLOB_SIGNING_KEY: SigningKey,
}


@dataclass(frozen=True, slots=True)
class SecretRef:
    """One secret of this environment: its type, its ``name`` (for per-thing types) and its id."""

    type: SecretType
    name: str | None
    secret_id: str

    @classmethod
    def of(cls, secret_type: SecretType | str, name: str | None, *, environment: str) -> SecretRef:
        kind = parse_type(secret_type)
        if name is not None and not _NAME.fullmatch(name):
            raise InvalidInput("name", "must be 1 to 100 of A-Z a-z 0-9 - _")
        secret_id = f"{environment}-{kind.value}" + (f"-{name}" if name else "")
        return cls(kind, name, secret_id)

    @property
    def labels(self) -> dict[str, str]:
        # Secret Manager labels: lowercase letters, digits, - and _ only.
        labels = {"app": "virtuoso-api", "type": self.type.value}
        return labels | ({"name": self.name.lower()} if self.name else {})

    def __str__(self) -> str:
        return self.secret_id


def parse_type(value: SecretType | str) -> SecretType:
    try:
        return SecretType(value)
    except ValueError:
        choices = ", ".join(kind.value for kind in SecretType)
        raise InvalidInput("type", f"{value!r:.60} is not a secret type; choose from {choices}") from None


def validate_value(secret_type: SecretType, fields: Any) -> SecretValue:
    """The type's value from what a caller gave; :class:`InvalidInput` naming the field otherwise
    (the reason never quotes what was given: it may be the secret)."""
    model = VALUE_MODELS[secret_type]
    if isinstance(fields, model):
        return fields
    if not isinstance(fields, dict):
        raise InvalidInput("value", f"must be an object with the fields of {secret_type.value}")
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        reason = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = f"is not a field of {secret_type.value} (fields: {', '.join(model.model_fields)})"
        raise InvalidInput(f"value.{where}" if where else "value", reason) from None


def decode_value(secret_type: SecretType, data: bytes) -> SecretValue:
    """A stored version's value. Raises ``ValueError`` (without the data) when it is not one."""
    model = VALUE_MODELS[secret_type]
    try:
        parsed: Any = json.loads(data)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        if len(model.secret_fields) != 1:
            raise ValueError(f"it is not a JSON object with the fields of {secret_type.value}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("it is neither JSON nor UTF-8 text") from None
        parsed = {model.secret_fields[0]: text}
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"its field {where or '?'} {first['msg']}") from None
