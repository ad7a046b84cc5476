"""What every CLI command shares: loading settings, running a coroutine, turning errors into exits.

Errors go to stderr as one line and a non-zero exit code; output (human or ``--json``) goes to stdout,
so ``--json`` output is always parseable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from virtuoso_api.config import Settings, describe_settings_error, load_settings
from virtuoso_api.errors import (
    BackendUnavailable,
    Forbidden,
    InvalidInput,
    Misconfigured,
    NotFound,
    Unauthorized,
    VirtuosoApiError,
)
from virtuoso_api.kit.redact import redact

T = TypeVar("T")

# No markup by default: what we print holds user input (names, selectors) that may contain brackets.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class Exit:
    """Exit codes, stable for scripts."""

    FAILURE = 1
    USAGE = 2  # a bad argument, option or setting
    NOT_FOUND = 3
    DENIED = 4
    UNAVAILABLE = 5


def fail(message: str, code: int = Exit.FAILURE) -> NoReturn:
    # Escaped: messages carry user input and brackets ("virtuoso-api[gcp]") that rich would eat as markup.
    # Redacted: a message may quote what Virtuoso or a library said, and that may hold our token.
    err.print(f"[red]error:[/red] {escape(redact(message))}", markup=True, highlight=False)
    raise typer.Exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings, with CLI options over environment; a bad value exits 2 with one line."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        fail(describe_settings_error(exc), Exit.USAGE)


def run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except (InvalidInput, Misconfigured) as exc:
        fail(exc.message, Exit.USAGE)
    except NotFound as exc:
        fail(exc.message, Exit.NOT_FOUND)
    except (Unauthorized, Forbidden) as exc:
        fail(exc.message, Exit.DENIED)
    except BackendUnavailable as exc:
        fail(exc.message, Exit.UNAVAILABLE)
    except VirtuosoApiError as exc:
        fail(exc.message)


def print_json(value: Any) -> None:
    out.print_json(json.dumps(value, default=str))
