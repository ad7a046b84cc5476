"""Sessions: a caller's working context, chiefly the Virtuoso checkpoint its commands go to."""

from virtuoso_api.sessions.models import Session
from virtuoso_api.sessions.service import SessionService

__all__ = ["Session", "SessionService"]
