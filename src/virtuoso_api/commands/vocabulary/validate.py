"""Argument types: how one raw string becomes a checked value, and how the catalogue names it.

Every converter takes ``(raw, field)`` and either returns the value or raises
:class:`~virtuoso_api.errors.InvalidInput` naming ``field`` (``args[2]``, ``args.--timeout``), so a
caller sees which argument was wrong and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.steps import ElementPosition

T = TypeVar("T")

MAX_WAIT_MS = 60_000


@dataclass(frozen=True, slots=True)
class ArgType(Generic[T]):
    """A kind of argument: its name in usage lines, what it accepts, and its converter."""

    name: str
    accepts: str
    convert: Callable[[str, str], T]


@dataclass(frozen=True, slots=True)
class Point:
    """An ``x,y`` pair in CSS pixels; either may be negative (offsets, scroll positions)."""

    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Size:
    """A ``WIDTHxHEIGHT`` window size in CSS pixels."""

    width: int
    height: int


def _text(raw: str, field: str) -> str:
    del field
    return raw


def _not_blank(raw: str, field: str) -> str:
    if not raw.strip():
        raise InvalidInput(field, "must not be empty")
    return raw


def _http_url(raw: str, field: str) -> str:
    value = raw.strip()
    if re.search(r"\s", value):
        raise InvalidInput(field, f"must be a URL without spaces (encode them as %20), got {raw!r:.80}")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:  # "https://[instance].example.com": brackets hold only an IPv6 address
        raise InvalidInput(field, f"is not a valid URL ({exc}), got {raw!r:.80}") from None
    if parts.scheme.lower() in ("http", "https") and host:
        return value
    if not parts.scheme or parts.scheme.lower() == "file" or re.match(r"^[A-Za-z]:[\\/]", value):
        raise InvalidInput(
            field, f"must be an http:// or https:// URL; local paths are not accepted, got {raw!r:.80}"
        )
    raise InvalidInput(field, f"must be an http:// or https:// URL, got {raw!r:.80}")


_SIZE = re.compile(r"\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*")


def _size(raw: str, field: str) -> Size:
    match = _SIZE.fullmatch(raw)
    if match is None:
        raise InvalidInput(field, f"must be WIDTHxHEIGHT such as 1280x800, got {raw!r:.40}")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 1 or height < 1:
        raise InvalidInput(field, f"width and height must be positive, got {raw!r:.40}")
    return Size(width, height)


_POINT = re.compile(r"\s*([+-]?\d{1,6})\s*,\s*([+-]?\d{1,6})\s*")


def _point(raw: str, field: str) -> Point:
    match = _POINT.fullmatch(raw)
    if match is None:
        raise InvalidInput(
            field, f"must be x,y with whole numbers such as 100,200 or -100,0, got {raw!r:.40}"
        )
    return Point(int(match.group(1)), int(match.group(2)))


def _parse_int(raw: str, field: str) -> int:
    if re.fullmatch(r"\s*[+-]?\d{1,12}\s*", raw) is None:
        raise InvalidInput(field, f"must be a whole number, got {raw!r:.40}")
    return int(raw)


def integer(minimum: int | None = None, maximum: int | None = None, *, name: str = "n") -> ArgType[int]:
    """A whole number, optionally bounded (inclusive)."""
    if minimum is not None and maximum is not None:
        accepts = f"whole number from {minimum} to {maximum}"
    elif minimum is not None:
        accepts = f"whole number >= {minimum}"
    else:
        accepts = "whole number (may be negative)"

    def convert(raw: str, field: str) -> int:
        value = _parse_int(raw, field)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise InvalidInput(field, f"must be a {accepts}, got {value}")
        return value

    return ArgType(name, accepts, convert)


def _regex(raw: str, field: str) -> str:
    if not raw:
        raise InvalidInput(field, "must not be empty")
    try:
        re.compile(raw)
    except re.error as exc:
        raise InvalidInput(
            field, f"is not a valid regular expression (checked with Python's re): {exc}"
        ) from exc
    return raw


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _variable(raw: str, field: str) -> str:
    name = raw.strip().removeprefix("$")
    if _IDENTIFIER.fullmatch(name) is None:
        raise InvalidInput(
            field, f"must be a variable name (letters, digits, _; not starting with a digit), got {raw!r:.40}"
        )
    return name


def _element_position(raw: str, field: str) -> ElementPosition:
    candidate = raw.strip().upper().replace("-", "_")
    try:
        return ElementPosition(candidate)
    except ValueError:
        choices = ", ".join(position.value for position in ElementPosition)
        raise InvalidInput(field, f"must be one of {choices}; got {raw!r:.40}") from None


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _element_type(raw: str, field: str) -> str:
    if _WORD.fullmatch(raw.strip()) is None:
        raise InvalidInput(field, f"must be an element type word such as BUTTON or LINK, got {raw!r:.40}")
    return raw.strip()


MODIFIER_KEYS = ("ctrl", "shift", "alt", "meta")


def _modifiers(raw: str, field: str) -> tuple[str, ...]:
    names = [part.strip().lower() for part in raw.split(",")]
    unknown = [name for name in names if name not in MODIFIER_KEYS]
    if unknown or not names:
        raise InvalidInput(
            field, f"must be a comma-separated list of {', '.join(MODIFIER_KEYS)}; got {raw!r:.40}"
        )
    return tuple(dict.fromkeys(names))


def _attribute(raw: str, field: str) -> str:
    if not raw or re.search(r"[\s\"'>/=]", raw):
        raise InvalidInput(field, f"must be an HTML attribute name such as href or data-id, got {raw!r:.40}")
    return raw


# RFC 6265 token characters: no separators, whitespace or controls.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HOSTNAME = re.compile(
    r"\.?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


def _cookie_name(raw: str, field: str) -> str:
    if _COOKIE_NAME.fullmatch(raw) is None:
        raise InvalidInput(
            field, f"must be a cookie name without spaces, quotes or ()<>@,;:\\/[]?={{}}; got {raw!r:.40}"
        )
    return raw


def _cookie_value(raw: str, field: str) -> str:
    if ";" in raw or any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        raise InvalidInput(field, "a cookie value must not contain ';' or control characters")
    return raw


def _cookie_domain(raw: str, field: str) -> str:
    if _HOSTNAME.fullmatch(raw) is None:
        raise InvalidInput(field, f"must be a host name such as example.com or .example.com, got {raw!r:.40}")
    return raw


def _cookie_path(raw: str, field: str) -> str:
    if not raw.startswith("/") or ";" in raw or re.search(r"\s", raw):
        raise InvalidInput(
            field, f"must be a path starting with / and without ';' or spaces, got {raw!r:.40}"
        )
    return raw


def record_id(prefix: str | None = None, *, name: str = "id") -> ArgType[int]:
    """A positive Virtuoso id, optionally written with ``prefix`` (``cp_456``, ``lib_7``)."""
    pattern = re.compile(
        rf"(?:{re.escape(prefix)})?([1-9][0-9]{{0,17}})" if prefix else r"([1-9][0-9]{0,17})"
    )
    accepts = f"positive id such as 456 or {prefix}456" if prefix else "positive id such as 456"

    def convert(raw: str, field: str) -> int:
        match = pattern.fullmatch(raw.strip())
        if match is None:
            raise InvalidInput(field, f"must be a {accepts}, got {raw!r:.40}")
        return int(match.group(1))

    return ArgType(name, accepts, convert)


TEXT = ArgType("text", "any text (may be empty)", _text)
NON_EMPTY_TEXT = ArgType("text", "non-empty text", _not_blank)
NAME = ArgType("name", "non-empty name", _not_blank)
SELECTOR = ArgType(
    "selector", "element hint: visible text, a CSS selector or text=...; not empty", _not_blank
)
KEY = ArgType("key", "key name such as Enter, Tab or a", _not_blank)
URL = ArgType("url", "absolute http:// or https:// URL", _http_url)
SIZE = ArgType("WxH", "WIDTHxHEIGHT with positive whole numbers, e.g. 1280x800", _size)
POINT = ArgType("x,y", "x,y whole numbers, negatives allowed, e.g. -100,0", _point)
MILLISECONDS = integer(0, MAX_WAIT_MS, name="ms")
REGEX = ArgType("regex", "regular expression (checked with Python's re)", _regex)
VARIABLE = ArgType("variable", "variable name, with or without a leading $", _variable)
ELEMENT_POSITION = ArgType(
    "position", "one of " + ", ".join(p.value for p in ElementPosition), _element_position
)
ELEMENT_TYPE = ArgType("type", "element type word such as BUTTON or LINK", _element_type)
MODIFIERS = ArgType("keys", "comma-separated modifier keys: " + ", ".join(MODIFIER_KEYS), _modifiers)
ATTRIBUTE = ArgType("attribute", "HTML attribute name such as href", _attribute)
COOKIE_NAME = ArgType("name", "cookie name (RFC 6265 token)", _cookie_name)
COOKIE_VALUE = ArgType("value", "cookie value without ';'", _cookie_value)
COOKIE_DOMAIN = ArgType("domain", "host name such as example.com or .example.com", _cookie_domain)
COOKIE_PATH = ArgType("path", "path starting with /", _cookie_path)
ID = record_id()
CHECKPOINT_ID = record_id("cp_", name="checkpoint-id")
LIBRARY_ID = record_id("lib_", name="library-id")
# Execution (job) ids are numbers in Virtuoso's answers (``"id": 88715``), as every other id.
EXECUTION_ID = record_id(name="execution-id")
