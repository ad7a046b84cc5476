"""Checking that a push to ``/internal/tasks/{kind}`` comes from Cloud Tasks: Google's OIDC token.

Cloud Tasks signs each push with an ID token for ``GCP_SERVICE_ACCOUNT_EMAIL`` whose audience is the
target URL. :class:`OidcVerifier` checks the signature against Google's certificates, the expiry, the
audience (the URL this service expects, built from ``PUBLIC_BASE_URL``, never from the request's own
Host), the issuer and the service account's verified email. google-auth's ``jwt.decode`` does the
cryptography (as ``id_token.verify_oauth2_token`` does); the certificates are fetched here with the
async HTTP client and kept as long as Google's ``Cache-Control`` says, so a push never blocks the
event loop on a synchronous fetch. ``certs_url`` is Google's unless set (tests point it at their own).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from virtuoso_api.errors import BackendUnavailable, Unauthorized

GOOGLE_CERTS_URL: Final = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS: Final = frozenset({"accounts.google.com", "https://accounts.google.com"})
_DEFAULT_MAX_AGE: Final = 3600.0
_MAX_AGE: Final = re.compile(r"max-age=(\d+)")
_CLOCK_SKEW_SECONDS: Final = 10


class OidcVerifier:
    def __init__(
        self,
        *,
        service_account_email: str,
        certs_url: str = GOOGLE_CERTS_URL,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._email = service_account_email
        self._certs_url = certs_url
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._certs: Mapping[str, str] = {}
        self._certs_until = 0.0
        self._fetching = asyncio.Lock()

    async def verify(self, authorization: str | None, *, audience: str) -> Mapping[str, Any]:
        """The token's claims; :class:`Unauthorized` for a missing or wrong token."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a Cloud Tasks push needs an OIDC bearer token")
        certs = await self._current_certs()
        try:
            claims: Mapping[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                token.strip(), certs=certs, audience=audience, clock_skew_in_seconds=_CLOCK_SKEW_SECONDS
            )
        except (ValueError, auth_exceptions.GoogleAuthError) as exc:
            # Say which rule failed (expired, audience, signature) without echoing the token.
            raise Unauthorized(f"the OIDC token was refused: {str(exc).split(':')[0][:120]}") from exc
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise Unauthorized("the OIDC token was not issued by Google")
        if claims.get("email") != self._email or claims.get("email_verified") is not True:
            raise Unauthorized("the OIDC token is not for the service account in GCP_SERVICE_ACCOUNT_EMAIL")
        return claims

    async def _current_certs(self) -> Mapping[str, str]:
        if time.monotonic() < self._certs_until:
            return self._certs
        async with self._fetching:
            if time.monotonic() < self._certs_until:
                return self._certs
            try:
                response = await self._http.get(self._certs_url)
                response.raise_for_status()
                certs = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise BackendUnavailable(
                    "google-oidc", "Google's signing certificates could not be read"
                ) from exc
            if not isinstance(certs, dict) or not all(isinstance(v, str) for v in certs.values()):
                raise BackendUnavailable(
                    "google-oidc", "Google's signing certificates are not in the v1 form"
                )
            match = _MAX_AGE.search(response.headers.get("cache-control", ""))
            self._certs = certs
            self._certs_until = time.monotonic() + (float(match.group(1)) if match else _DEFAULT_MAX_AGE)
            return certs

    async def close(self) -> None:
        await self._http.aclose()
