"""Request fields read as JSON Schema reads the OpenAPI document that describes them.

Pydantic's lax mode takes ``0`` and ``"yes"`` for booleans and ``true`` and ``"5"`` for integers. The
document says ``boolean`` and ``integer``; a caller who sends ``{"activate": 0}`` has likely made a
mistake and is told so (422 naming the field). JSON Schema's integer is a number without a fraction,
so ``9.0`` is one (and is taken as ``9``); ``9.5``, ``"9"`` and ``true`` are not.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer, such as 9")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # an int, or something the int validator refuses with its own reason


#: Makes an ``int`` field a JSON integer: ``9`` or ``9.0``; not ``"9"``, not ``true``. It goes after
#: the field's bounds (``Annotated[int, Field(ge=1), JSON_INTEGER]``), or the OpenAPI document gets
#: pydantic's names for them (``ge``) rather than JSON Schema's (``minimum``).
JSON_INTEGER = BeforeValidator(_json_integer)

#: An integer field without bounds.
JsonInt = Annotated[int, JSON_INTEGER]

#: A boolean field: ``true`` or ``false``; not ``0``, ``1`` or ``"yes"``.
JsonBool = StrictBool
