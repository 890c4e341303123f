from __future__ import annotations

import pytest

from complaint_service.bootstrap import SPEC
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime
from tests.support.customers import FakeCustomerService

from .support import TOKEN, Client


@pytest.fixture
def customers():
    """The customer service as the complaint service reads it: the fixtures' customers."""
    fake = FakeCustomerService()
    for customer_id in ("cust-1", "cust-2"):
        fake.add(customer_id, "east")
    return fake


@pytest.fixture
def runtime(tmp_path, customers):
    rt = ServiceRuntime(SPEC, Settings(data_dir=tmp_path, internal_token=TOKEN))
    rt.peers["customer"] = customers
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app)
