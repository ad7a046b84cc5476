"""Secrets kept out of every text that leaves the process: messages, logs, stored errors, stderr.

A secret rarely leaks in its raw form alone. h11 refuses a header holding ``"abc\\n"`` and says
``b'Bearer abc\\\\n'``; a ``%r`` in a log line escapes it; a JSON body escapes it again. So each
registered secret is replaced in every one of those spellings, and in those spellings of each other
(a repr inside a JSON body), not only as typed.

This module imports nothing of ours outside the kit: the logging filter must be installable before
anything else of the service is loaded, and every layer may use :func:`redact`.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

MASK = "***"

T = TypeVar("T")

# How a secret gets rewritten on its way out: repr of a str, repr of its UTF-8 bytes (h11's errors),
# JSON with and without ASCII escapes.
_SPELLINGS: tuple[Callable[[str], str], ...] = (
    lambda s: repr(s)[1:-1],
    lambda s: repr(s.encode("utf-8", "backslashreplace"))[2:-1],
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
)
# One escape on top of another (a repr quoted in a JSON body) is as deep as real leaks go.
_DEPTH = 2


def spellings(secret: str) -> set[str]:
    """``secret`` as typed and in every escaped form it may take on its way out."""
    found = {secret}
    layer = {secret}
    for _ in range(_DEPTH):
        layer = {spell(text) for text in layer for spell in _SPELLINGS} - found
        found |= layer
    return found


class Secrets:
    """A registry of secret values, and :meth:`redact` that masks every spelling of each of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None) -> None:
        if not secret:  # an empty secret would mask nothing useful and match everywhere
            return
        with self._lock:
            if secret in self._values:
                return
            self._values.add(secret)
            forms = set().union(*(spellings(value) for value in self._values))
            # Longest first: alternation takes the first match, and an escaped form contains the
            # unescaped prefix of the secret, which must not be masked alone and leave the tail.
            ordered = sorted(forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def redact(self, text: str) -> str:
        pattern = self._pattern  # read once: add() swaps it whole, so no lock is needed here
        return pattern.sub(MASK, text) if pattern is not None and text else text


#: The process's secrets: every layer registers what it holds and redacts through this one.
SECRETS = Secrets()


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` from now on wherever :func:`redact` or :class:`RedactingFilter` is used."""
    SECRETS.add(secret)


def redact(text: str) -> str:
    """``text`` with every spelling of every registered secret replaced by ``***``."""
    return SECRETS.redact(text)


def redact_value(value: T, secrets: Secrets = SECRETS) -> T:
    """JSON-like data (a stored error with its details) with every string in it redacted."""
    return cast(T, _redact_any(value, secrets))


def _redact_any(value: Any, secrets: Secrets) -> Any:
    if isinstance(value, str):
        return secrets.redact(value)
    if isinstance(value, Mapping):
        return {key: _redact_any(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_any(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_any(item, secrets) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """Redacts a record's message, arguments, exception and stack text before a handler formats it.

    On a handler rather than a logger: a logger's filters see only records logged to that very
    logger, while a handler's see every record that reaches it, whichever logger it came from.
    """

    def __init__(self, secrets: Secrets = SECRETS) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._arg(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: self._arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._arg(value) for value in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._secrets.redact(record.exc_text)
            # Formatters print exc_text when exc_info is gone; one that re-rendered the live
            # exception itself would print it unredacted.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self._secrets.redact(record.stack_info)
        return True

    def _arg(self, value: Any) -> Any:
        # Non-strings are kept as they are unless their text holds a secret, so "%d" and uvicorn's
        # access formatter, which unpacks its arguments, still get what they expect.
        if isinstance(value, str):
            return self._secrets.redact(value)
        if isinstance(value, int | float | bool) or value is None:
            return value
        try:
            text, shown = str(value), repr(value)  # "%s" or "%r" may print it
        except Exception:  # logging reports a broken __str__ when it formats; not ours to raise
            return value
        redacted = self._secrets.redact(text)
        if redacted == text and self._secrets.redact(shown) == shown:
            return value
        return redacted


def install_filter(handlers: Iterable[logging.Handler], secrets: Secrets = SECRETS) -> None:
    """Put a :class:`RedactingFilter` on each handler that has none yet."""
    for handler in handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter(secrets))


def with_redaction(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a ``logging.config.dictConfig`` mapping whose every handler redacts."""
    copied: dict[str, Any] = copy.deepcopy(dict(config))
    copied.setdefault("filters", {})["redact"] = {"()": RedactingFilter}
    for handler in copied.get("handlers", {}).values():
        names = handler.setdefault("filters", [])
        if "redact" not in names:
            names.append("redact")
    return copied
