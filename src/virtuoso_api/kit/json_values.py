"""Request fields read as JSON Schema reads the OpenAPI document that describes them.

Pydantic's lax mode takes ``0`` and ``"yes"`` for booleans and ``true`` and ``"5"`` for integers. The
document says ``boolean`` and ``integer``; a caller who sends ``{"activate": 0}`` has likely made a
mistake and is told so (422 naming the field). JSON Schema's integer is a number without a fraction,
so ``9.0`` is one (and is taken as ``9``); ``9.5``, ``"9"`` and ``true`` are not.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator


def _as_json(value: Any) -> str:
    # As the caller wrote it (``"9"``, ``true``), not as Python shows it (``'9'``, ``True``).
    return json.dumps(value, default=str)[:40]


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError(f"must be a JSON integer such as 9, got {_as_json(value)}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # an int, or something the int validator refuses with its own reason


#: Makes an ``int`` field a JSON integer: ``9`` or ``9.0``; not ``"9"``, not ``true``. It goes after
#: the field's bounds (``Annotated[int, Field(ge=1), JSON_INTEGER]``), or the OpenAPI document gets
#: pydantic's names for them (``ge``) rather than JSON Schema's (``minimum``).
JSON_INTEGER = BeforeValidator(_json_integer)

#: An integer field without bounds.
JsonInt = Annotated[int, JSON_INTEGER]


def _json_boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_as_json(value)}")
    return value


#: A boolean field: ``true`` or ``false``; not ``0``, ``1`` or ``"yes"``.
JsonBool = Annotated[bool, BeforeValidator(_json_boolean)]


def not_null(schema: dict[str, Any]) -> None:
    """For ``Field(json_schema_extra=not_null)``: a PATCH field that may be left out but is refused as
    ``null`` (``str | None = None`` only to tell "left out"). Its document offers no null, and no null
    default."""
    options = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    schema.pop("default", None)
