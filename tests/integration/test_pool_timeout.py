"""A request that finds every pooled PostgreSQL connection of its process in use waits at
most REVISIT_DB_POOL_TIMEOUT seconds, then gets 503 problem+json with Retry-After: busy,
not broken, and never a 500 or a request that hangs."""

from __future__ import annotations

import pytest

from customer_service.bootstrap import SPEC
from tests.support.client import Client
from tests.support.service import service_runtime

pytestmark = pytest.mark.services


@pytest.fixture
def runtime(tmp_path, postgres_url, postgres_schemas):
    with service_runtime(
        SPEC,
        tmp_path,
        database_url=postgres_url,
        db_schema_prefix=postgres_schemas,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.3,
    ) as rt:
        yield rt


def test_an_exhausted_pool_answers_503_with_retry_after(runtime):
    client = Client(runtime.create_app())
    assert client.get("/api/v1/customers").status_code == 200
    with runtime.db.engine.connect():  # the pool's only connection, held
        busy = client.get("/api/v1/customers")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.content_type == "application/problem+json"
    assert busy.get_json()["status"] == 503
    assert client.get("/api/v1/customers").status_code == 200  # released: served again
