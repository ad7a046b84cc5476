"""``Text``: a request string that is valid Unicode.

JSON may spell a lone surrogate (``"\\udc80"``) and Python's JSON parser keeps it, but it cannot be
encoded as UTF-8: the store, the log and the JSON answer (even the error naming it) all fail on it,
which was a 500 with nothing recorded. Refused at parse time instead, as a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from virtuoso_api.kit.json_rules import unicode_problem


def valid_unicode(value: str) -> str:
    problem = unicode_problem(value)
    if problem:
        raise ValueError(f"must be valid Unicode text (it has {problem})")
    return value


#: A string field or parameter of a request; use it for every string a caller sends.
Text = Annotated[str, AfterValidator(valid_unicode)]
