"""A fresh customer service per test (SQLite under tmp_path)."""

from __future__ import annotations

import pytest

from customer_service.bootstrap import SPEC
from tests.support.service import service_runtime


@pytest.fixture
def runtime(tmp_path):
    with service_runtime(SPEC, tmp_path) as rt:
        yield rt
