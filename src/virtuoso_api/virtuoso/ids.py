"""Virtuoso ids as callers hand them to us: checkpoint ids as ``456``, ``"456"`` or ``"cp_456"``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, WithJsonSchema

from virtuoso_api.errors import InvalidInput

# At most 15 digits: a JSON number holds every such id exactly (a double, as JavaScript reads it, is
# exact only to 2**53), so an id reads back unchanged in any client, and the OpenAPI document can
# state the bound exactly (its bounds are doubles too).
MAX_ID_DIGITS = 15
_DIGITS = f"[1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}}"
_CHECKPOINT_ID = re.compile(rf"(?:cp_)?({_DIGITS})")
MAX_ID = 10**MAX_ID_DIGITS - 1


def parse_checkpoint_id(value: object, *, field: str = "checkpoint_id") -> int:
    """A Virtuoso checkpoint id given as ``456``, ``"456"`` or ``"cp_456"``.

    Only this exact form is accepted: the original guessed (any number in a command's arguments could
    become a checkpoint id), which is how steps ended up in the wrong checkpoint.
    """
    if isinstance(value, bool):
        raise InvalidInput(field, "must be a checkpoint id such as 456 or cp_456")
    if isinstance(value, float) and value.is_integer():  # JSON's 456.0 is the integer 456
        value = int(value)
    if isinstance(value, int):
        if not 0 < value <= MAX_ID:
            raise InvalidInput(field, f"must be a positive checkpoint id of at most {MAX_ID_DIGITS} digits")
        return value
    if isinstance(value, str):
        match = _CHECKPOINT_ID.fullmatch(value)
        if match:
            return int(match.group(1))
    raise InvalidInput(field, f"must be a checkpoint id such as 456 or cp_456, got {value!r:.40}")


def _checkpoint_field(value: Any) -> int:
    try:
        return parse_checkpoint_id(value)
    except InvalidInput as exc:  # pydantic reports ValueErrors per field; ours would escape it
        raise ValueError(exc.reason) from exc


_AS_TEXT = f"(cp_)?{_DIGITS}"

#: What a checkpoint id field accepts, as the OpenAPI document says it.
CHECKPOINT_ID_SCHEMA: Final = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        {"type": "string", "pattern": f"^{_AS_TEXT}$"},
    ]
}

#: A checkpoint id field of a request model: accepts ``456``, ``"456"`` or ``"cp_456"``; holds ``456``.
CheckpointId = Annotated[int, BeforeValidator(_checkpoint_field), WithJsonSchema(CHECKPOINT_ID_SCHEMA)]


def _checkpoint_filter(value: Any) -> int | None:
    # An empty value (``?checkpoint_id=``, as a form leaves it) is the filter left out.
    return None if value == "" else _checkpoint_field(value)


#: A checkpoint id as a query filter: ``456`` or ``cp_456``; empty is no filter.
CheckpointIdFilter = Annotated[
    int | None,
    BeforeValidator(_checkpoint_filter),
    WithJsonSchema({"type": "string", "pattern": f"^({_AS_TEXT})?$", "description": "456 or cp_456"}),
]
