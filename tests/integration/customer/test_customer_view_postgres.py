"""``GET /customers/{id}`` on a real PostgreSQL: one statement in autocommit
(``Database.fetch``), rendered exactly as ``CustomerOutSchema`` dumps the ORM's customer; a
connection the server ended is replaced, and the database going away is a 503."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from customer_service.bootstrap import SPEC
from revisit_common.runtime import ServiceRuntime
from tests.support.client import TOKEN, Client
from tests.support.customer_bodies import SHAPES, check_bodies
from tests.support.settings import make_settings

pytestmark = pytest.mark.services


@pytest.fixture
def runtime(postgres_url, postgres_schemas, tmp_path):
    settings = make_settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        db_schema_prefix=postgres_schemas,
        internal_token=TOKEN,
        db_pool_size=1,
        db_max_overflow=0,
    )
    rt = ServiceRuntime(SPEC, settings)
    assert rt.db.is_postgres
    yield rt
    rt.close()


@pytest.fixture
def client(runtime):
    return Client(runtime.create_app())


def test_each_shape_of_customer_reads_back_as_the_schema_dumps_it(client, runtime):
    check_bodies(client, runtime)


def test_the_read_leaves_its_connection_usable_and_outside_autocommit(client, runtime):
    customer_id = client.post("/api/v1/customers", SHAPES[1]).json["id"]
    for _ in range(8):  # past psycopg's threshold for preparing the statement
        assert client.get(f"/api/v1/customers/{customer_id}").status_code == 200
    with runtime.db.engine.connect() as conn:  # the pool's one connection
        assert conn.connection.driver_connection.autocommit is False
        conn.execute(sa.text("SELECT 1"))
    assert client.patch(f"/api/v1/customers/{customer_id}", {"name": "Renamed"}).status_code == 200
    assert client.get(f"/api/v1/customers/{customer_id}").json["name"] == "Renamed"


def test_a_connection_the_server_ended_costs_one_503_then_reads_go_on(client, runtime):
    customer_id = client.post("/api/v1/customers", SHAPES[0]).json["id"]
    assert client.get(f"/api/v1/customers/{customer_id}").status_code == 200
    with runtime.db.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    killer = sa.create_engine(runtime.db.engine.url, poolclass=sa.pool.NullPool)
    try:
        with killer.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()
    # Used a moment ago, so not pinged: the read finds it dead, 503 problem+json, and the
    # connection is dropped from the pool.
    r = client.get(f"/api/v1/customers/{customer_id}")
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Retry-After"] == "2"
    assert client.get(f"/api/v1/customers/{customer_id}").status_code == 200
