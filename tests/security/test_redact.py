"""The kit's redaction: every spelling of a registered secret is masked, in text and in log records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.security.leaks import leaks, spellings
from virtuoso_api.kit.redact import RedactingFilter, Secrets

# Escapes differently in each spelling: a newline, a backslash, a quote and a non-ASCII letter.
SECRET = 'tok-7Qz\\"é\n'


@pytest.fixture
def secrets() -> Secrets:
    registry = Secrets()
    registry.add(SECRET)
    return registry


@pytest.mark.parametrize("form", sorted(spellings(SECRET)))
def test_each_spelling_is_masked(secrets: Secrets, form: str) -> None:
    text = f"before {spellings(SECRET)[form]} after"
    assert secrets.redact(text) == "before *** after"


def test_the_header_h11_refuses_is_masked(secrets: Secrets) -> None:
    # What h11 says of a header it refuses: the bytes' repr, inside our own message.
    said = f"Illegal header value {(b'Bearer ' + SECRET.encode())!r}"
    assert secrets.redact(said) == "Illegal header value b'Bearer ***'"


def test_a_json_body_quoting_an_escaped_secret_is_masked(secrets: Secrets) -> None:
    body = json.dumps({"error": f"refused {SECRET.encode()!r}", "raw": SECRET})
    redacted = secrets.redact(body)
    assert leaks(SECRET, redacted) == []
    assert json.loads(redacted) == {"error": "refused b'***'", "raw": "***"}


def test_text_without_a_secret_is_untouched_and_nothing_registered_masks_nothing() -> None:
    empty = Secrets()
    empty.add("")
    empty.add(None)
    assert empty.redact("tok-7Qz and ***") == "tok-7Qz and ***"
    registry = Secrets()
    registry.add("abc")
    assert registry.redact("ab c, abd") == "ab c, abd"


def test_every_registered_secret_is_masked() -> None:
    registry = Secrets()
    registry.add("first-secret")
    registry.add("second-secret")
    assert registry.redact("first-secret/second-secret") == "***/***"


@pytest.fixture
def logged(secrets: Secrets) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose one handler carries the filter, writing to a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    logger = logging.getLogger("tests.security.redact")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, buffer
    logger.removeHandler(handler)


def test_the_filter_masks_arguments_of_any_type(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    error = RuntimeError(f"refused {SECRET!r}")
    logger.warning("token %s, error %s, attempt %d, %r", SECRET, error, 3, {"auth": SECRET})
    assert leaks(SECRET, buffer.getvalue()) == []
    assert "attempt 3" in buffer.getvalue()  # a number keeps its %d formatting


def test_the_filter_masks_mapping_arguments_and_the_message(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = logged
    logger.info(f"message {SECRET} then %(token)s", {"token": SECRET})
    assert buffer.getvalue() == "INFO message *** then ***\n"


def test_the_filter_masks_exception_text(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    try:
        raise ValueError(f"Illegal header value {(b'Bearer ' + SECRET.encode())!r}")
    except ValueError:
        logger.exception("the call failed")
    output = buffer.getvalue()
    assert "Traceback" in output
    assert "ValueError: Illegal header value b'Bearer ***'" in output
    assert leaks(SECRET, output) == []


def test_the_filter_masks_stack_text(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "here", (), None)
    record.stack_info = f"Stack (most recent call last):\n  call(token={SECRET!r})"
    logger.handle(record)
    assert buffer.getvalue() == "INFO here\nStack (most recent call last):\n  call(token='***')\n"
