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


def one_clean_line(value: str) -> str | None:
    """A credential as it may be sent in a header: surrounding whitespace stripped (a token read from a
    file or a secret store often ends in a newline), ``None`` when nothing is left; ``ValueError`` for
    a control or non-ASCII character inside it. The reason never quotes the value."""
    value = value.strip()
    if not value:
        return None
    if not value.isascii():
        raise ValueError("must be printable ASCII (it contains a non-ASCII character)")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError("must be printable ASCII (it contains a control character such as a newline or tab)")
    return value
