"""What every area of the client shares: the HTTP layer and the organization id."""

from __future__ import annotations

from virtuoso_api.virtuoso._http import VirtuosoHttp


class ClientBase:
    """Holds the state the per-area mixins use; :class:`VirtuosoClient` fills it in."""

    _http: VirtuosoHttp
    _org_id: int | None
