"""Virtuoso ids as callers hand them to us: checkpoint ids as ``456``, ``"456"`` or ``"cp_456"``."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from virtuoso_api.errors import InvalidInput

_CHECKPOINT_ID = re.compile(r"(?:cp_)?([1-9][0-9]{0,17})")


def parse_checkpoint_id(value: object, *, field: str = "checkpoint_id") -> int:
    """A Virtuoso checkpoint id given as ``456``, ``"456"`` or ``"cp_456"``.

    Only this exact form is accepted: the original guessed (any number in a command's arguments could
    become a checkpoint id), which is how steps ended up in the wrong checkpoint.
    """
    if isinstance(value, bool):
        raise InvalidInput(field, "must be a checkpoint id such as 456 or cp_456")
    if isinstance(value, int):
        if not 0 < value < 2**63:  # Virtuoso's ids are 64-bit, and so is every store's integer
            raise InvalidInput(field, "must be a positive 64-bit checkpoint id")
        return value
    if isinstance(value, str):
        match = _CHECKPOINT_ID.fullmatch(value.strip())
        if match:
            return int(match.group(1))
    raise InvalidInput(field, f"must be a checkpoint id such as 456 or cp_456, got {value!r:.40}")


def _checkpoint_field(value: Any) -> int:
    try:
        return parse_checkpoint_id(value)
    except InvalidInput as exc:  # pydantic reports ValueErrors per field; ours would escape it
        raise ValueError(exc.reason) from exc


#: A checkpoint id field of a request model: accepts ``456``, ``"456"`` or ``"cp_456"``; holds ``456``.
CheckpointId = Annotated[
    int,
    BeforeValidator(_checkpoint_field),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^(cp_)?[1-9][0-9]*$"}]}
    ),
]
