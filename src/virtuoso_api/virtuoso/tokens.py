"""Where the client's bearer token comes from: a fixed string, or a source that can be refreshed.

The client asks :meth:`TokenSource.current` before every request, so it must cost next to nothing: a
cached value, no await, no I/O (a source that keeps its value fresh does so in the background). Only
when it has no token yet, or when Virtuoso answered 401 to the token it sent, does the client await
:meth:`TokenSource.refresh`: once per refused request, after which the request is sent once more with
the newer token, if there is one. A rotation of the Virtuoso key thus makes no request fail.
"""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    def current(self) -> str | None:
        """The token to send now, or ``None`` when there is none yet (the client then refreshes)."""
        ...

    async def refresh(self, rejected: str | None) -> str | None:
        """A token other than ``rejected`` (the one Virtuoso refused, or ``None`` when the source had
        none), or ``None`` when there is no other. Raises when the token cannot be found out."""
        ...


class StaticToken:
    """A token given once (``VIRTUOSO_API_TOKEN``): nothing newer can come of a refusal."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        return self._token

    async def refresh(self, rejected: str | None) -> str | None:  # noqa: ARG002 - the protocol's
        return None
