"""How Cloud Storage's V4 signed URLs are signed: with a private key where there is one, else by IAM.

``google-cloud-storage`` computes the V4 canonical request and string to sign itself; what it needs is
something to sign with:

- a service-account key (``STORAGE_SIGNING_CREDENTIALS_FILE``, or Application Default Credentials that
  are a key file): signed here, nothing is contacted;
- no private key (Cloud Run, GKE, a user's ``gcloud auth application-default login``): the library
  sends the string to sign to the IAM Credentials ``signBlob`` API with the current access token, as
  ``STORAGE_SIGNING_SERVICE_ACCOUNT`` or, unset, as the account the credentials themselves are (the
  Cloud Run service's own identity). Not ``GCP_SERVICE_ACCOUNT_EMAIL``: that is the identity Cloud
  Tasks signs its pushes as, and a link signed as it would carry its access, not the service's. The
  caller needs ``roles/iam.serviceAccountTokenCreator`` on the signer (itself, by default; README:
  Cloud Storage).

Neither available is a configuration error naming both ways out, raised when a URL is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from virtuoso_api.errors import Misconfigured

_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class UrlSigning:
    def __init__(
        self, *, key_file: Path | None, service_account_email: str | None, client_credentials: Any
    ) -> None:
        self._email = service_account_email
        self._client_credentials = client_credentials
        self._keyed: Any = None
        if key_file is not None:
            from google.oauth2 import service_account

            try:
                self._keyed = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    str(key_file), scopes=_SCOPES
                )
            except (OSError, ValueError) as exc:
                raise Misconfigured(
                    "STORAGE_SIGNING_CREDENTIALS_FILE is not a service-account key file: "
                    f"{type(exc).__name__}"
                ) from exc

    @property
    def mode(self) -> str:
        """``key`` or ``iam`` (what ``storage`` reports say), or ``none``."""
        if self._keyed is not None or _has_key(self._client_credentials):
            return "key"
        return "iam" if self._email or _own_account(self._client_credentials) else "none"

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments ``Blob.generate_signed_url`` signs with. Called in a worker thread:
        the IAM path refreshes the access token, a network call."""
        if self._keyed is not None:
            return {"credentials": self._keyed}
        if _has_key(self._client_credentials):
            return {"credentials": self._client_credentials}
        credentials = self._client_credentials
        if not credentials.valid:
            import google.auth.transport.requests

            credentials.refresh(google.auth.transport.requests.Request())
        email = self._email or _own_account(credentials)
        if not email:
            raise Misconfigured(
                "signed URLs for Cloud Storage need a signer: set STORAGE_SIGNING_SERVICE_ACCOUNT "
                "(signed through IAM signBlob; the caller needs roles/iam.serviceAccountTokenCreator "
                "on it), run as a service account, or set STORAGE_SIGNING_CREDENTIALS_FILE (a "
                "service-account key)"
            )
        return {"service_account_email": email, "access_token": credentials.token}


def _has_key(credentials: Any) -> bool:
    from google.auth.credentials import Signing

    return isinstance(credentials, Signing) and getattr(credentials, "signer_email", None) is not None


def _own_account(credentials: Any) -> str | None:
    """The service account the credentials are, where they say (Compute Engine's, on Cloud Run, says
    ``default`` until its first refresh)."""
    email = getattr(credentials, "service_account_email", None)
    return email if isinstance(email, str) and "@" in email else None
