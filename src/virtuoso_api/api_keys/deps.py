"""The API-key service as routes and the auth gate reach it (put there by ``app.py``)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends

from virtuoso_api.api_keys.service import ApiKeyService
from virtuoso_api.http.deps import StateKey

API_KEYS: Final = StateKey[ApiKeyService]("api_keys")

ApiKeysDep = Annotated[ApiKeyService, Depends(API_KEYS.get)]
