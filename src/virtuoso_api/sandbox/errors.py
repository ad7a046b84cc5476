"""Errors the sandbox answers, in Virtuoso's envelope: ``{"success": false, "error": ...}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class SandboxError(Exception):
    """An answer other than 2xx. ``plain`` renders ``error`` as a bare string (Virtuoso does both)."""

    def __init__(self, status: int, code: str, message: str, *, plain: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.plain = plain


def not_found(what: str) -> SandboxError:
    return SandboxError(404, "NOT_FOUND", f"{what} not found")


def bad_request(message: str) -> SandboxError:
    return SandboxError(400, "BAD_REQUEST", message)


def _body(error: SandboxError) -> dict[str, Any]:
    detail: Any = error.message if error.plain else {"code": error.code, "message": error.message}
    return {"success": False, "error": detail}


async def _sandbox_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SandboxError)
    return JSONResponse(_body(exc), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    # Virtuoso answers 400 (not FastAPI's 422) to a body it cannot take.
    assert isinstance(exc, RequestValidationError)
    problems = []
    for item in exc.errors()[:5]:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        problems.append(f"{'.'.join(location) or 'body'}: {item.get('msg', 'invalid')}")
    return JSONResponse(_body(bad_request("; ".join(problems) or "invalid request")), status_code=400)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = "NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR"
    return JSONResponse(
        _body(SandboxError(exc.status_code, code, str(exc.detail))), status_code=exc.status_code
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SandboxError, _sandbox_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
