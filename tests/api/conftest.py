"""The HTTP features run unchanged on either documents backend: every test here runs on both."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, on_backend
from virtuoso_api.config import Settings


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return on_backend(request, settings, request.param)
