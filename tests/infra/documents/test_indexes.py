"""`firestore.indexes.json` (for `firebase deploy --only firestore:indexes`) matches the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from virtuoso_api.config import Settings
from virtuoso_api.history.models import COLLECTION as HISTORY
from virtuoso_api.history.models import HistoryFilters
from virtuoso_api.infra.documents.port import EXPIRY_FIELD
from virtuoso_api.services import Services

INDEXES = Path(__file__).resolve().parents[3] / "firestore.indexes.json"


def load() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(INDEXES.read_text())
    return parsed


def composite(collection: str) -> list[list[tuple[str, str]]]:
    return [
        [(field["fieldPath"], field["order"]) for field in index["fields"]]
        for index in load()["indexes"]
        if index["collectionGroup"] == collection
    ]


def test_every_index_has_the_documented_shape() -> None:
    config = load()
    assert set(config) == {"indexes", "fieldOverrides"}
    for index in config["indexes"]:
        assert set(index) == {"collectionGroup", "queryScope", "fields"}
        assert index["queryScope"] == "COLLECTION"
        assert len(index["fields"]) >= 2
        assert all(field["order"] in {"ASCENDING", "DESCENDING"} for field in index["fields"])


def test_history_is_indexed_for_every_filter_newest_first() -> None:
    indexes = composite(HISTORY)
    filters = [name for name in HistoryFilters.model_fields if name != "since"]
    for name in filters:
        assert [(name, "ASCENDING"), ("timestamp", "DESCENDING")] in indexes
    for name in filters[1:]:
        assert [("user_id", "ASCENDING"), (name, "ASCENDING"), ("timestamp", "DESCENDING")] in indexes


def test_sessions_of_a_user_newest_first() -> None:
    assert [("user_id", "ASCENDING"), ("created_at", "DESCENDING")] in composite("sessions")


async def test_expiring_collections_have_a_ttl_policy_on_the_expiry_field(settings: Settings) -> None:
    overrides = {item["collectionGroup"]: item for item in load()["fieldOverrides"]}
    async with Services.running(settings) as services:  # what the domains declare to the root
        assert set(overrides) == set(services.expiring_collections())
    for item in overrides.values():
        assert item["fieldPath"] == EXPIRY_FIELD
        assert item["ttl"] is True
        # Kept ascending-indexed: delete_expired queries `expires_at <= now` between TTL runs.
        assert item["indexes"] == [{"order": "ASCENDING", "queryScope": "COLLECTION"}]


def test_runs_of_a_user_newest_first_and_unfinished_runs_by_last_check() -> None:
    indexes = composite("runs")
    assert [("user_id", "ASCENDING"), ("started_at", "DESCENDING")] in indexes
    assert [("user_id", "ASCENDING"), ("goal_id", "ASCENDING"), ("started_at", "DESCENDING")] in indexes
    assert [("finished", "ASCENDING"), ("checked_at", "ASCENDING")] in indexes


def test_webhook_queries_are_indexed() -> None:
    assert [("owner", "ASCENDING"), ("created_at", "DESCENDING")] in composite("webhooks")
    deliveries = composite("webhook_deliveries")
    for index in (
        [("state", "ASCENDING"), ("next_attempt_at", "ASCENDING")],  # what is due
        [("webhook_id", "ASCENDING"), ("created_at", "DESCENDING")],  # a webhook's delivery log
        [("webhook_id", "ASCENDING"), ("state", "ASCENDING"), ("created_at", "DESCENDING")],
        [("owner", "ASCENDING"), ("state", "ASCENDING"), ("created_at", "DESCENDING")],  # dead letters
        [("state", "ASCENDING"), ("created_at", "DESCENDING")],
    ):
        assert index in deliveries
