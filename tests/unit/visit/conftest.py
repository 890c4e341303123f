"""A fresh visit service per test (SQLite under tmp_path), the events it consumes applied
through ``feed``, and one registered customer."""

from __future__ import annotations

import pytest

from tests.support.customers import FakeCustomerService
from tests.support.events import envelope
from tests.support.service import service_runtime
from tests.support.visits import register
from visit_service.bootstrap import SPEC


@pytest.fixture
def customers():
    """The customer service as the visit service reads it (knows no one unless told)."""
    return FakeCustomerService()


@pytest.fixture
def runtime(tmp_path, customers, clock):
    with service_runtime(SPEC, tmp_path, peers={"customer": customers}, clock=clock) as rt:
        yield rt


@pytest.fixture
def feed(runtime):
    """Apply an event to the visit service as its consumer would; returns the outcome."""

    def apply(type_name: str, data: dict, **kw) -> str:
        return runtime.consumer.apply(envelope(type_name, data, **kw))

    return apply


@pytest.fixture
def customer(feed):
    """A registered customer of tenant-a (region east, owner li.wei, grade B)."""
    return register(feed)
