"""``metadata``: a caller's free-form JSON object, checked at the edge like everything else.

Checked against what every documents store can keep (so a request fails with a 422 naming the field,
not later in the store) and kept small, since it is copied into documents that are read often.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from virtuoso_api.infra.documents.port import check_storable

MAX_METADATA_BYTES = 16_384


def _checked(value: dict[str, Any]) -> dict[str, Any]:
    check_storable(value)  # ValueError: pydantic reports it against the field
    if len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"at most {MAX_METADATA_BYTES} bytes of JSON")
    return value


Metadata = Annotated[
    dict[str, Any], AfterValidator(_checked), Field(description="Any JSON object, up to 16 KiB")
]
