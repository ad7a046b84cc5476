"""Command history: every command executed, from any interface, with its outcome."""

from virtuoso_api.history.models import HistoryEntry, HistoryFilters, HistoryPage
from virtuoso_api.history.service import HistoryService

__all__ = ["HistoryEntry", "HistoryFilters", "HistoryPage", "HistoryService"]
