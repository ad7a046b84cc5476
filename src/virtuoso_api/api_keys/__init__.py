"""API keys: who is calling, and what they may do (scopes ``read`` < ``write`` < ``admin``)."""

from virtuoso_api.api_keys.models import ApiKey, Principal, Scope
from virtuoso_api.api_keys.service import ApiKeyService

__all__ = ["ApiKey", "ApiKeyService", "Principal", "Scope"]
