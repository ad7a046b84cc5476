"""Webhooks run against real receivers on loopback (WEBHOOK_ALLOW_LOCAL_TARGETS), on the service's
clock started at the real time: the signature checker of the Standard Webhooks library compares the
signed timestamp with the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock

SCHEDULE = [5.0, 60.0, 600.0]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"webhook_allow_local_targets": True, "webhook_retry_schedule": SCHEDULE}
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))
