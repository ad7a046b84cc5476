"""Without a private key, who Cloud Storage links are signed as: the configured signer, else the
service account the service runs as, never Cloud Tasks' identity (``GCP_SERVICE_ACCOUNT_EMAIL``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed")

from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.blobs.gcp_signing import UrlSigning


def runtime_credentials(email: str | None) -> SimpleNamespace:
    """Google's credentials as Cloud Run's metadata server gives them: a token, no private key, and
    (after the first refresh) the account's address."""
    return SimpleNamespace(valid=True, token="ya29.runtime-token", service_account_email=email)


def test_the_service_signs_as_its_own_account_by_default() -> None:
    signing = UrlSigning(
        key_file=None,
        service_account_email=None,
        client_credentials=runtime_credentials("api@p.iam.gserviceaccount.com"),
    )
    assert signing.mode == "iam"
    assert signing.arguments() == {
        "service_account_email": "api@p.iam.gserviceaccount.com",
        "access_token": "ya29.runtime-token",
    }


def test_a_configured_signer_wins() -> None:
    signing = UrlSigning(
        key_file=None,
        service_account_email="signer@p.iam.gserviceaccount.com",
        client_credentials=runtime_credentials("api@p.iam.gserviceaccount.com"),
    )
    assert signing.arguments()["service_account_email"] == "signer@p.iam.gserviceaccount.com"


def test_credentials_that_are_no_account_and_no_signer_are_refused_naming_the_settings() -> None:
    # Compute Engine's credentials say "default" before their first refresh; a user's say nothing.
    for email in (None, "default"):
        signing = UrlSigning(
            key_file=None, service_account_email=None, client_credentials=runtime_credentials(email)
        )
        assert signing.mode == "none"
        with pytest.raises(Misconfigured) as caught:
            signing.arguments()
        assert "STORAGE_SIGNING_SERVICE_ACCOUNT" in caught.value.message
        assert "STORAGE_SIGNING_CREDENTIALS_FILE" in caught.value.message
