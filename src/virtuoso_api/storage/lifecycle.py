"""Lifecycle: the rules from the settings, applied as bucket rules on Cloud Storage and by a sweeper
over the local folder, and what a dry run shows.

- results: to ``STORAGE_RESULTS_COLDER_CLASS`` after ``STORAGE_RESULTS_COLDER_AFTER_DAYS``, deleted
  after ``STORAGE_RESULTS_DELETE_AFTER_DAYS``;
- command logs: deleted after ``STORAGE_LOGS_DELETE_AFTER_DAYS``;
- static assets and the archive: kept (no rule is set on them).

A day count of 0 means "never". Cloud Storage acts on its own once the rules are set (within a day
of a blob's age passing, as it documents); locally the sweeper runs every hour and acts on the
blob's time (the service's clock when it was written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from virtuoso_api.config import Settings
from virtuoso_api.infra.blobs import BlobInfo, LifecycleAction, LifecycleRule
from virtuoso_api.storage.buckets import BucketKind


def rules_from_settings(settings: Settings) -> dict[BucketKind, list[LifecycleRule]]:
    results: list[LifecycleRule] = []
    if settings.storage_results_colder_after_days:
        results.append(
            LifecycleRule(
                LifecycleAction.SET_STORAGE_CLASS,
                settings.storage_results_colder_after_days,
                storage_class=settings.storage_results_colder_class,
            )
        )
    if settings.storage_results_delete_after_days:
        results.append(LifecycleRule(LifecycleAction.DELETE, settings.storage_results_delete_after_days))
    logs = (
        [LifecycleRule(LifecycleAction.DELETE, settings.storage_logs_delete_after_days)]
        if settings.storage_logs_delete_after_days
        else []
    )
    return {
        BucketKind.RESULTS: results,
        BucketKind.COMMAND_LOGS: logs,
        BucketKind.STATIC: [],
        BucketKind.ARCHIVE: [],
    }


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a rule does (or would do) to one blob."""

    bucket: str
    name: str
    action: LifecycleAction
    storage_class: str | None
    age_days: int


def due(info: BlobInfo, rules: list[LifecycleRule], now: datetime) -> Change | None:
    """What the rules do to a blob now: deletion wins over a class change (Cloud Storage's order)."""
    age = now - info.updated
    chosen: Change | None = None
    for rule in rules:
        if rule.prefix and not info.name.startswith(rule.prefix):
            continue
        if age < timedelta(days=rule.age_days):
            continue
        if rule.action is LifecycleAction.DELETE:
            return Change(info.bucket, info.name, rule.action, None, age.days)
        if info.storage_class != rule.storage_class:
            chosen = Change(info.bucket, info.name, rule.action, rule.storage_class, age.days)
    return chosen
