"""``metadata``: a caller's free-form JSON object, checked at the edge like everything else.

Checked against what every documents store can keep (so a request fails with a 422 naming the field,
not later in the store) and kept small and shallow, since it is copied into documents that are read
often and nested inside them (a session's metadata sits one level down, so it gets fewer levels than
a document may have).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from virtuoso_api.kit.json_rules import check_storable

MAX_METADATA_BYTES = 16_384
#: Objects and arrays nested inside the metadata object. It is stored one level down in a document,
#: so it stays below what a document may nest (``json_rules.MAX_NESTING``).
MAX_METADATA_NESTING = 15


def _checked(value: dict[str, Any]) -> dict[str, Any]:
    # ValueError: pydantic reports it against the field. Depth first: it bounds the size check's work.
    check_storable(value, max_nesting=MAX_METADATA_NESTING)
    if len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"at most {MAX_METADATA_BYTES} bytes of JSON")
    return value


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_checked),
    Field(
        description=f"Any JSON object, up to 16 KiB, with objects and arrays nested at most "
        f"{MAX_METADATA_NESTING} deep inside it"
    ),
]
