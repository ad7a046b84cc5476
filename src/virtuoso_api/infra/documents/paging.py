"""Reading a page of a query on a caller's cursor: the one place a cursor it sent is judged."""

from __future__ import annotations

from virtuoso_api.errors import BadRequest
from virtuoso_api.infra.documents.port import DocumentStore, InvalidCursor, Page, Query


async def query_page(store: DocumentStore, query: Query) -> Page:
    """One page of ``query``. A cursor this store did not hand out (forged, or another query's) is a
    400 naming ``cursor``: it is opaque, so a bad one is a broken request, not a bad value (422)."""
    try:
        return await store.query(query)
    except InvalidCursor as exc:
        raise BadRequest(f"cursor: {exc}", details=[{"field": "cursor", "reason": str(exc)}]) from exc
