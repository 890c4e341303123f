"""A fresh customer service per test (SQLite under tmp_path); ``timed`` is one whose clock
stands still at :data:`START` until the test moves it (``clock``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from customer_service.bootstrap import SPEC
from tests.support.client import Client
from tests.support.clock import FakeClock
from tests.support.service import service_runtime

START = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, the default time zone


@pytest.fixture
def runtime(tmp_path):
    with service_runtime(SPEC, tmp_path) as rt:
        yield rt


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def timed(tmp_path, clock):
    with service_runtime(SPEC, tmp_path, clock=clock) as rt:
        yield rt


@pytest.fixture
def timed_client(timed):
    return Client(timed.create_app())
