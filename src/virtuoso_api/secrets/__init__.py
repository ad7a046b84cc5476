"""The secrets domain: typed secrets per environment, a TTL cache that rides out outages, rotation."""

from virtuoso_api.secrets.service import Rotation, SecretsHealth, SecretsService, StoredSecret
from virtuoso_api.secrets.types import SecretRef, SecretType, SecretValue, SigningKey, VirtuosoApiKey

__all__ = [
    "Rotation",
    "SecretRef",
    "SecretType",
    "SecretValue",
    "SecretsHealth",
    "SecretsService",
    "SigningKey",
    "StoredSecret",
    "VirtuosoApiKey",
]
