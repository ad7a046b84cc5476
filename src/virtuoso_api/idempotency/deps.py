"""The idempotency service as routes reach it (put there by ``app.py``), and the header they take."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Header
from pydantic import WithJsonSchema

from virtuoso_api.http.deps import StateKey
from virtuoso_api.idempotency.service import HEADER, KEY_PATTERN, IdempotencyService

IDEMPOTENCY: Final = StateKey[IdempotencyService]("idempotency")
Idempotency = Annotated[IdempotencyService, Depends(IDEMPOTENCY.get)]

#: The ``Idempotency-Key`` header of a route that creates something.
IdempotencyKey = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^{KEY_PATTERN}$"})] | None,
    Header(
        alias=HEADER,
        description="1 to 255 printable ASCII characters. Send the same key when retrying: the first "
        "answer comes back and nothing runs twice",
    ),
]
