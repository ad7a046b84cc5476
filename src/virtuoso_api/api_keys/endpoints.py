"""``/api/v1/api-keys``: managing keys over HTTP (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from virtuoso_api.api_keys.auth import AdminAccess
from virtuoso_api.api_keys.deps import ApiKeysDep
from virtuoso_api.api_keys.models import ApiKeyCreate, ApiKeyCreated, ApiKeyView
from virtuoso_api.http.openapi import FORBIDDEN, INVALID, JSON_BODY, error

# Every route here needs the admin scope.
router = APIRouter(prefix="/api-keys", tags=["api-keys"], responses=FORBIDDEN)

_NOT_FOUND = error(404, "No key with this id")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated, responses=JSON_BODY)
async def create_api_key(body: ApiKeyCreate, api_keys: ApiKeysDep, _: AdminAccess) -> ApiKeyCreated:
    """Create a key. The answer holds the key itself, shown this once; only its hash is stored."""
    key, record = await api_keys.create(body)
    return ApiKeyCreated(**ApiKeyView.of(record).model_dump(), key=key)


@router.get("", response_model=list[ApiKeyView], responses=INVALID)
async def list_api_keys(
    api_keys: ApiKeysDep, _: AdminAccess, user_id: str | None = Query(default=None, max_length=128)
) -> list[ApiKeyView]:
    """Every key, newest first, revoked and expired ones included."""
    return [ApiKeyView.of(key) for key in await api_keys.list(user_id=user_id)]


@router.get("/{key_id}", response_model=ApiKeyView, responses=_NOT_FOUND)
async def get_api_key(key_id: str, api_keys: ApiKeysDep, _: AdminAccess) -> ApiKeyView:
    return ApiKeyView.of(await api_keys.get(key_id))


@router.delete("/{key_id}", response_model=ApiKeyView, responses=_NOT_FOUND)
async def revoke_api_key(key_id: str, api_keys: ApiKeysDep, _: AdminAccess) -> ApiKeyView:
    """Revoke a key: it stops working at once on this instance, within API_KEY_CACHE_SECONDS on others."""
    return ApiKeyView.of(await api_keys.revoke(key_id))
