"""Query parameters read exactly as the OpenAPI document describes them.

A query string is text, and pydantic's lax mode reads much into text: ``1``, ``yes`` and ``on`` as
``true``, and a bare number as a Unix time (``since=0.5`` was half a second after 1970 began). The
document says boolean and date-time, and a caller who sends ``since=0.5`` has made a mistake: it is
told so (422 naming the parameter) rather than served something else.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from virtuoso_api.kit.timestamps import as_utc

_TRUE_OR_FALSE = {"true": True, "false": False}


def _true_or_false(value: Any) -> Any:
    if isinstance(value, str):
        if value not in _TRUE_OR_FALSE:
            raise ValueError(f"must be true or false, got {value!r:.40}")
        return _TRUE_OR_FALSE[value]
    return value


#: A boolean query parameter: ``true`` or ``false``, nothing else.
QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]

# RFC 3339's date-time, which OpenAPI's ``format: date-time`` names: a date, a time, an offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_INSTANT_REASON = "must be an RFC 3339 date-time with an offset, such as 2026-01-31T09:00:00Z"


def _rfc3339_text(value: Any) -> Any:
    if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
        raise ValueError(f"{_INSTANT_REASON}, got {str(value)!r:.40}")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC, before datetime.min
        raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None


#: A date-time query parameter: RFC 3339 only (no bare numbers, no missing offset), held in UTC.
QueryInstant = Annotated[datetime, BeforeValidator(_rfc3339_text), AfterValidator(_in_utc)]
