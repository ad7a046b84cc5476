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
from pydantic import Field, WithJsonSchema
from starlette.datastructures import UploadFile

from virtuoso_api.api_keys.auth import ReadAccess
from virtuoso_api.errors import InvalidInput
from virtuoso_api.http.openapi import TOO_LARGE, declare, error
from virtuoso_api.suites.document import Syntax
from virtuoso_api.suites.parser import parse_assignments, parse_suite
from virtuoso_api.suites.variables import ASSIGNMENT_PATTERN
from virtuoso_api.suites.views import SuitePlan

router = APIRouter(prefix="/suites", tags=["suites"])

# The query string has room for 20 of them even in the widest characters (12 bytes each once
# percent-encoded): the server refuses a request line past 64 KiB before the service sees it.
Assignment = Annotated[
    str,
    Field(max_length=200),
    WithJsonSchema({"type": "string", "maxLength": 200, "pattern": ASSIGNMENT_PATTERN}),
]

_YAML_TYPES: Final = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
)
_JSON_TYPES: Final = frozenset({"application/json"})
_MULTIPART: Final = "multipart/form-data"
_ACCEPTED: Final = "application/yaml, application/json or a multipart/form-data upload (field file)"

# A suite is a mapping, in YAML or JSON (a YAML file whose document is a bare string is refused). Its
# dialects and verbs are the parser's to check: the answer names every problem with its line.
_SUITE: Final[dict[str, Any]] = {
    "type": "object",
    "description": "A suite in any dialect (simplified, compact or extended)",
}
_EXAMPLE: Final = {"name": "Login", "steps": [{"click": "Sign in"}]}
_REQUEST_BODY: Final[dict[str, Any]] = {
    "required": True,
    "content": {
        "application/yaml": {"schema": _SUITE, "example": _EXAMPLE},
        "application/json": {"schema": _SUITE, "example": _EXAMPLE},
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
    responses=declare(
        error(400, "A multipart upload that cannot be read"),
        TOO_LARGE,
        error(415, f"Not sent as {_ACCEPTED}"),
        error(422, "The suite is not valid: `details` lists each problem with its line"),
    ),
)
async def validate_suite(
    request: Request,
    _: ReadAccess,
    var: Annotated[
        list[Assignment],
        Query(description="NAME=VALUE, over the file's own variables (repeatable)", max_length=20),
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
