"""What JSON every documents store can keep, checked before anything is written.

The rules are Firestore's, the stricter store, so data moves between the stores unchanged: integers
within 64 bits, finite floats, no array directly inside an array, no empty or ``__x__`` field names,
and objects and arrays nested at most :data:`MAX_NESTING` deep. Strings must be valid Unicode: a lone
surrogate (JSON ``"\\udc80"``) cannot be encoded as UTF-8, so neither store, nor a JSON answer, can
carry it.

It imports nothing of ours, so the edge (request models) and the stores share one rule.
"""

from __future__ import annotations

import math
from typing import Final

#: Objects and arrays inside a document, the document itself not counted. Firestore refuses a 21st
#: level ("invalid nested entity"), and pydantic refuses to serialise some 250 levels (a 500).
MAX_NESTING: Final = 20

_INT64: Final = range(-(2**63), 2**63)


def unicode_problem(text: str) -> str | None:
    """What makes ``text`` invalid Unicode (``"a lone surrogate at position 3"``), or ``None``."""
    if text.isascii():  # the common case, and much cheaper than encoding
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate at position {exc.start}"
    return None


def check_storable(value: object, *, max_nesting: int = MAX_NESTING) -> None:
    """Refuse what a store cannot keep, and what is not JSON at all, before any write.

    ValueError (or TypeError for a value that is not JSON) whose message says where and why.
    ``max_nesting`` counts the objects and arrays below ``value`` itself."""
    _check(value, path="", in_array=False, room=max_nesting, limit=max_nesting)


def _where(path: str) -> str:
    return f" (at {path:.120})" if path else ""


def _check(value: object, *, path: str, in_array: bool, room: int, limit: int) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        problem = unicode_problem(value)
        if problem:
            raise ValueError(f"a string is not valid Unicode text ({problem}){_where(path)}")
    elif isinstance(value, int):
        if value not in _INT64:
            raise ValueError(f"{value} does not fit in 64 bits, the largest integer Firestore stores")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
    elif isinstance(value, list | tuple | dict):
        _check_container(value, path=path, in_array=in_array, room=room, limit=limit)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _check_container(
    value: list[object] | tuple[object, ...] | dict[object, object],
    *,
    path: str,
    in_array: bool,
    room: int,
    limit: int,
) -> None:
    if path and room <= 0:
        # Checked before going deeper, so a hostile document costs at most ``limit`` frames.
        raise ValueError(f"objects and arrays are nested deeper than {limit} levels{_where(path)}")
    inner = room - 1 if path else room
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or (key.startswith("__") and key.endswith("__")):
                raise ValueError(f"{key!r:.60} cannot be a field name in Firestore{_where(path)}")
            problem = unicode_problem(key)
            if problem:
                raise ValueError(f"a field name is not valid Unicode text ({problem}){_where(path)}")
            _check(item, path=f"{path}.{key}" if path else key, in_array=False, room=inner, limit=limit)
        return
    if in_array:
        raise ValueError(f"Firestore cannot store an array directly inside an array{_where(path)}")
    for index, item in enumerate(value):
        _check(
            item, path=f"{path}[{index}]" if path else f"[{index}]", in_array=True, room=inner, limit=limit
        )
