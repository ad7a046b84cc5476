"""``metadata``: a caller's free-form JSON object, checked at the edge like everything else.

Checked against what every documents store can keep (so a request fails with a 422 naming the field,
not later in the store) and kept small and shallow, since it is copied into documents that are read
often and nested inside them (a session's metadata sits one level down, so it gets fewer levels than
a document may have).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field, GetJsonSchemaHandler, TypeAdapter, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypeAliasType

from virtuoso_api.kit.json_rules import check_storable

MAX_METADATA_BYTES = 16_384
#: Objects and arrays nested inside the metadata object. It is stored one level down in a document,
#: so it stays below what a document may nest (``json_rules.MAX_NESTING``).
MAX_METADATA_NESTING = 15
#: The largest size of a number in metadata: beyond 2**53 a JSON number is not exact in JavaScript
#: (or any client that reads numbers as doubles), and it is a bound the OpenAPI document can state
#: exactly (its bounds are doubles), for integers and fractions alike.
MAX_METADATA_NUMBER = 2**53


def _checked(value: dict[str, Any]) -> dict[str, Any]:
    # ValueError: pydantic reports it against the field. Depth first: it bounds the size check's work.
    check_storable(value, max_nesting=MAX_METADATA_NESTING)
    if len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"at most {MAX_METADATA_BYTES} bytes of JSON")
    _check_numbers(value)
    return value


def _check_numbers(value: object) -> None:
    pending = [value]  # depth is already bounded by check_storable; a list avoids recursion anyway
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool) and abs(item) > MAX_METADATA_NUMBER:
            raise ValueError(f"numbers are at most 2**53 ({MAX_METADATA_NUMBER}) in size, got {item:.6g}")


# What the OpenAPI document says metadata is: json_rules' rules that JSON Schema can state (field
# names neither empty nor ``__x__``, no array directly inside an array, numbers within 2**53).
# Only the document uses these types; validation is ``_checked``, the same rule every store applies.
_Name = Annotated[
    str, WithJsonSchema({"type": "string", "minLength": 1, "not": {"pattern": r"^(_{2,3}|__[\s\S]*__)$"}})
]
_Number = Annotated[
    float,
    WithJsonSchema({"type": "number", "minimum": -MAX_METADATA_NUMBER, "maximum": MAX_METADATA_NUMBER}),
]
MetadataItem = TypeAliasType(
    "MetadataItem",
    "None | bool | _Number | str | dict[_Name, MetadataValue]",  # no list in a list
)
MetadataValue = TypeAliasType(
    "MetadataValue", "None | bool | _Number | str | list[MetadataItem] | dict[_Name, MetadataValue]"
)
_DOCUMENTED = TypeAdapter(dict[_Name, MetadataValue])


class _Documented:
    @staticmethod
    def __get_pydantic_json_schema__(schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(_DOCUMENTED.core_schema)


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_checked),
    _Documented(),
    Field(
        description=f"Any JSON object, up to 16 KiB, with objects and arrays nested at most "
        f"{MAX_METADATA_NESTING} deep inside it, and numbers at most 2**53 in size"
    ),
]
