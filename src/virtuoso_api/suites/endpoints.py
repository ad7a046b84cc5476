"""``POST /api/v1/suites/validate``: a suite file in, the commands it becomes (or every problem with
its line) out. Nothing is sent to Virtuoso.

The file comes as the raw body (YAML or JSON, by its ``Content-Type``) or as the ``file`` field of a
multipart upload. ``MAX_REQUEST_BYTES`` bounds the body before it is read (middleware); the parser
bounds what the text may expand to. Parsing is CPU work, so it runs in a worker thread and a large
file does not stall other requests.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.datastructures import UploadFile

from virtuoso_api.api_keys.auth import ReadAccess
from virtuoso_api.errors import InvalidInput
from virtuoso_api.suites.document import Syntax
from virtuoso_api.suites.parser import parse_assignments, parse_suite
from virtuoso_api.suites.views import SuitePlan

router = APIRouter(prefix="/suites", tags=["suites"])

_YAML_TYPES: Final = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
)
_JSON_TYPES: Final = frozenset({"application/json"})
_MULTIPART: Final = "multipart/form-data"
_ACCEPTED: Final = "application/yaml, application/json or a multipart/form-data upload (field file)"

_REQUEST_BODY: Final[dict[str, Any]] = {
    "required": True,
    "content": {
        "application/yaml": {
            "schema": {"type": "string"},
            "example": "name: Login\nsteps:\n  - click: Sign in\n",
        },
        "application/json": {"schema": {"type": "object"}},
        _MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


def _source(name: str | None) -> str:
    # Only the file's own name, for messages: never a client's path.
    base = PurePosixPath((name or "").replace("\\", "/")).name[:200]
    return base or "body"


async def _uploaded(request: Request) -> tuple[str, bytes]:
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file", "upload the suite as the multipart field named file")
        return _source(upload.filename), await upload.read()


@router.post(
    "/validate",
    response_model=SuitePlan,
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={422: {"description": "The suite is not valid: `details` lists each problem with its line"}},
)
async def validate_suite(
    request: Request,
    _: ReadAccess,
    var: Annotated[
        list[str], Query(description="NAME=VALUE, over the file's own variables (repeatable)", max_length=100)
    ] = [],  # noqa: B006 -- FastAPI copies a query list default per request
    filename: Annotated[
        str | None, Query(max_length=200, description="The file's name, for messages and the default name")
    ] = None,
) -> SuitePlan:
    """Parse a suite (any dialect, YAML or JSON) into the steps it would run, each with its line."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    syntax: Syntax | None = None
    if media == _MULTIPART:
        source, content = await _uploaded(request)
    elif media in _YAML_TYPES or media in _JSON_TYPES or media.endswith("+json") or not media:
        syntax = "json" if media in _JSON_TYPES or media.endswith("+json") else None
        source, content = _source(filename), await request.body()
    else:
        raise HTTPException(415, f"send the suite as {_ACCEPTED} (got {media[:60]})")
    variables = parse_assignments(var, "var")
    suite = await asyncio.to_thread(parse_suite, content, source=source, syntax=syntax, variables=variables)
    return SuitePlan.of(suite)
