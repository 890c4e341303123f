"""A fresh complaint service per test (SQLite under tmp_path) that knows two customers."""

from __future__ import annotations

import pytest

from complaint_service.bootstrap import SPEC
from revisit_common import tenant_settings
from tests.support.client import TENANT
from tests.support.complaints import NATIONAL_DAY, ComplaintClient
from tests.support.customers import FakeCustomerService
from tests.support.service import service_runtime


@pytest.fixture
def customers():
    """The customer service as the complaint service reads it: the fixtures' customers."""
    fake = FakeCustomerService()
    for customer_id in ("cust-1", "cust-2"):
        fake.add(customer_id, "east")
    return fake


@pytest.fixture
def runtime(tmp_path, customers, clock):
    with service_runtime(SPEC, tmp_path, peers={"customer": customers}, clock=clock) as rt:
        yield rt


@pytest.fixture
def cn_tenant(runtime):
    """tenant-a keeps the Shanghai time zone and the National Day calendar."""
    with runtime.db.transaction() as s:
        tenant_settings.store(s, TENANT, 1, "Asia/Shanghai", {"calendar": NATIONAL_DAY.to_dict()})


@pytest.fixture
def client(app):
    return ComplaintClient(app)
