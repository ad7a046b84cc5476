"""The secrets' settings: environment names (and their short spellings), the local key's form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from virtuoso_api.config import Environment, Settings, describe_settings_error


@pytest.mark.parametrize(
    ("given", "environment"),
    [
        ("dev", Environment.DEVELOPMENT),
        ("Development", Environment.DEVELOPMENT),
        ("stage", Environment.STAGING),
        ("prod", Environment.PRODUCTION),
        (" production ", Environment.PRODUCTION),
        ("local", Environment.LOCAL),
    ],
)
def test_environment_names_and_short_spellings(
    monkeypatch: pytest.MonkeyPatch, given: str, environment: Environment
) -> None:
    monkeypatch.setenv("ENVIRONMENT", given)
    assert Settings(_env_file=None).environment is environment


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("c2VjcmV0", "must be 32 bytes in URL-safe base64 (it decodes to 6 bytes)"),
        ("not base64 at all!" * 3, "must be 32 bytes in URL-safe base64 (it is not base64)"),
    ],
)
def test_a_malformed_encryption_key_is_named_but_never_shown(
    monkeypatch: pytest.MonkeyPatch, key: str, reason: str
) -> None:
    monkeypatch.setenv("SECRETS_ENCRYPTION_KEY", key)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    message = describe_settings_error(caught.value)
    assert message == f"invalid configuration: SECRETS_ENCRYPTION_KEY: {reason}"
    assert key not in message


def test_the_key_is_masked_in_config(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "A" * 43 + "="
    monkeypatch.setenv("SECRETS_ENCRYPTION_KEY", key)
    view = Settings(_env_file=None).public_view()
    assert view["SECRETS_ENCRYPTION_KEY"] == "********"
    assert (view["SECRET_CACHE_TTL_SECONDS"], view["SECRET_STALE_GRACE_SECONDS"]) == (300, 3600)
    assert (view["SECRET_ROTATION_GRACE_SECONDS"], view["SECRET_VERSIONS_KEPT"]) == (86400, 3)
