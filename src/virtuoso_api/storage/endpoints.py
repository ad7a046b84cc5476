"""``/files/{bucket}/{name}``: local blobs behind signed links (the service's stand-in for Cloud
Storage's signed URLs). No API key: the signature is the permission, checked in constant time
(``infra/blobs/local_urls.py``); a missing, tampered or expired one is a 403 that names no part of it.
A PUT with an upload link stores its body as the blob (its ``Content-Type`` must be the one signed).

What is served is sent with ``X-Content-Type-Options: nosniff`` and a Content-Security-Policy that
allows no script and no outside request: a report is self-contained, and a blob never runs code in
the service's origin whatever it holds.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import INVALID, declare, error
from virtuoso_api.infra.blobs import DEFAULT_CONTENT_TYPE
from virtuoso_api.storage.service import StorageService

STORAGE: Final = StateKey[StorageService]("storage")
Storage = Annotated[StorageService, Depends(STORAGE.get)]

router = APIRouter(prefix="/files", tags=["files"])

_SAFE_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}
_REFUSED: Final = declare(
    error(403, "The link's signature is missing, not valid, or expired"),
    error(404, "No such blob (or the blobs are in Cloud Storage)"),
    INVALID,
)
_BLOB: Final = {
    200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}, "description": "The blob"}
}
Bucket = Annotated[str, Path(min_length=3, max_length=63, description="The bucket")]
Name = Annotated[str, Path(min_length=1, max_length=1024, description="The blob's name")]


@router.get(
    "/{bucket}/{name:path}",
    response_class=Response,
    responses=declare(
        {
            200: {
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                "description": "The blob",
            }
        },
        _REFUSED,
    ),
)
async def read_file(bucket: Bucket, name: Name, request: Request, storage: Storage) -> Response:
    """A blob, given a link the service signed (`expires`, `kv`, `sig`): reports, exports, docs."""
    # The signature is checked before anything else: a link the service did not sign is a 403
    # whatever its bucket and name look like (the service signs only valid ones).
    blob = await storage.serve(bucket, name, request.query_params, method="GET", content_type=None)
    assert blob is not None
    return Response(blob.data, media_type=blob.info.content_type, headers=_SAFE_HEADERS)


@router.put("/{bucket}/{name:path}", status_code=200, response_model=None, responses=_REFUSED)
async def upload_file(bucket: Bucket, name: Name, request: Request, storage: Storage) -> Response:
    """Store the body as the blob, given an upload link the service signed for this content type."""
    content_type = request.headers.get("content-type") or DEFAULT_CONTENT_TYPE
    await storage.serve(bucket, name, request.query_params, method="PUT", content_type=content_type)
    await storage.store.put(bucket, name, await request.body(), content_type=content_type)
    return Response(status_code=200)
