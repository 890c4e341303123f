"""POST /customers/import, called as the gateway calls it (SQLite; once on PostgreSQL)."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from customer_service.bootstrap import SPEC
from customer_service.models import Customer
from customer_service.schemas import CustomerInSchema
from customer_service.service import create_customer
from revisit_common.caller import Caller
from revisit_common.errors import Conflict
from revisit_common.messaging.outbox import outbox_table
from tests.support.client import Client
from tests.support.outbox import events_of
from tests.support.pg_locks import lock_waiters
from tests.support.polling import wait_until
from tests.support.service import service_runtime
from tests.support.system import CUSTOMER

HEADER = "外部编号,客户名称,类型,区域,年采购额,合作开始日期,负责人\n"
ROWS = (
    "ERP-1,华东贸易有限公司,经销商,华东,1500000,2019-03-01,li.wei\n"
    "ERP-2,北方机械,agent,north,20000,2024-01-01,\n"
    ",个人客户,终端用户,west,500,2025-05-01,\n"
)
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]


def send(client, content: bytes, name: str = "customers.csv", **query):
    return client.post(
        "/api/v1/customers/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        query_string=query,
    )


def customers(runtime) -> list[Customer]:
    with runtime.db.read() as session:
        return session.scalars(sa.select(Customer).order_by(Customer.name)).all()


def outbox_size(runtime) -> int:
    with runtime.db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(outbox_table))


def test_a_file_registers_customers_with_the_events_of_post_customers(client, runtime):
    r = send(client, ("\ufeff" + HEADER + ROWS).encode())
    assert r.status_code == 200, r.json
    assert r.json == {"created": 3, "updated": 0, "errors": []}
    by_name = {c.name: c for c in customers(runtime)}
    big = by_name["华东贸易有限公司"]
    assert (big.external_id, big.type, big.region, big.owner) == (
        "ERP-1",
        "dealer",
        "华东",
        "li.wei",
    )
    assert big.size_tier == "large" and big.grade in ("A", "B", "C")
    assert by_name["个人客户"].type == "end_user" and by_name["个人客户"].external_id is None
    registered = events_of(runtime, "CustomerRegistered")
    assert sorted(e["data"]["name"] for e in registered) == sorted(by_name)
    graded = {e["subject"] for e in events_of(runtime, "CustomerGraded")}
    assert graded == {c.id for c in by_name.values()}
    # the same events, type for type, as one POST /customers of the same customer
    single = client.post("/api/v1/customers", {**CUSTOMER, "external_id": "ERP-9"}).json
    kinds = {e["type"] for e in events_of(runtime) if e["subject"] == single["id"]}
    assert kinds == {e["type"] for e in events_of(runtime) if e["subject"] == big.id}


def test_rows_with_a_known_external_id_update_that_customer(client, runtime):
    assert send(client, (HEADER + ROWS).encode()).json["created"] == 3
    first = {c.external_id: c for c in customers(runtime)}
    before = outbox_size(runtime)
    again = (
        HEADER
        + "ERP-1,华东贸易集团,经销商,华南,1500000,2019-03-01,\n"
        + "ERP-3,新客户,agent,east,10,2024-02-01,\n"
    )
    r = send(client, again.encode())
    assert r.status_code == 200, r.json
    assert r.json == {"created": 1, "updated": 1, "errors": []}
    after = {c.external_id: c for c in customers(runtime)}
    assert len(customers(runtime)) == 4
    updated = after["ERP-1"]
    assert updated.id == first["ERP-1"].id
    assert (updated.name, updated.region, updated.owner) == ("华东贸易集团", "华南", None)
    assert after["ERP-2"].name == "北方机械"  # not in the file: left alone
    assert outbox_size(runtime) > before  # the new customer's events at least


def test_a_file_with_an_invalid_row_writes_nothing_and_lists_every_error(client, runtime):
    bad = HEADER + ROWS + "ERP-4,,dealer,east,-5,2019-13-01,\nERP-1,重复,agent,east,1,2020-01-01,\n"
    r = send(client, bad.encode())
    assert r.status_code == 200
    assert r.json["created"] == 0 and r.json["updated"] == 0
    found = {(e["row"], e["field"]) for e in r.json["errors"]}
    assert found == {
        (5, "name"),
        (5, "annual_purchase_amount"),
        (5, "cooperation_start"),
        (6, "external_id"),
    }
    assert all(e["message"] for e in r.json["errors"])
    assert customers(runtime) == []
    assert outbox_size(runtime) == 0


def test_dry_run_checks_and_counts_without_writing(client, runtime):
    send(client, (HEADER + ROWS).encode())
    before = outbox_size(runtime)
    again = (
        HEADER + "ERP-1,改名,经销商,华东,1500000,2019-03-01,\nERP-7,新,agent,east,10,2024-02-01,\n"
    )
    r = send(client, again.encode(), dry_run="true")
    assert r.json == {"created": 1, "updated": 1, "errors": []}
    assert len(customers(runtime)) == 3
    assert {c.name for c in customers(runtime)} >= {"华东贸易有限公司"}
    assert outbox_size(runtime) == before


def test_an_xlsx_workbook_with_chinese_text(client, runtime):
    workbook = Workbook()
    for row in (
        ["客户名称", "类型", "区域", "年采购额", "合作开始日期", "地址"],
        ["深圳电子", "代理商", "华南", 880000, "2021-07-01", "深圳市南山区科技园"],
    ):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    r = send(client, out.getvalue(), "客户.xlsx")
    assert r.json == {"created": 1, "updated": 0, "errors": []}
    [customer] = customers(runtime)
    assert (customer.name, customer.address) == ("深圳电子", "深圳市南山区科技园")


def test_the_file_is_checked_before_anything(client):
    assert send(client, b"\x89PNG\r\n\x1a\n\x00\x00", "logo.png").status_code == 415
    r = send(client, "名称\n华东\n".encode("gbk"))
    assert (r.status_code, r.content_type) == (415, "application/problem+json")
    r = send(client, b"")
    assert (r.status_code, list(r.json["errors"])) == (422, ["file"])
    r = client.post("/api/v1/customers/import", {"name": "not a file"})
    assert (r.status_code, list(r.json["errors"])) == (422, ["file"])
    r = send(client, (HEADER + ROWS).encode(), dry_run="maybe")
    assert r.status_code == 422


def test_a_file_over_the_upload_limit_is_413(tmp_path):
    with service_runtime(SPEC, tmp_path, max_upload_bytes=4096) as runtime:
        client = Client(runtime.create_app())
        r = send(client, (HEADER + ROWS * 100).encode())
        assert (r.status_code, r.content_type) == (413, "application/problem+json")
        assert customers(runtime) == []


def test_an_external_id_belongs_to_one_customer(client):
    r = client.post("/api/v1/customers", {**CUSTOMER, "external_id": "ERP-1"})
    assert r.status_code == 201 and r.json["external_id"] == "ERP-1"
    assert client.post("/api/v1/customers", {**CUSTOMER, "external_id": "ERP-1"}).status_code == 409
    other = client.post("/api/v1/customers", CUSTOMER).json
    r = client.patch(f"/api/v1/customers/{other['id']}", {"external_id": "ERP-1"})
    assert r.status_code == 409


@pytest.fixture(params=DATABASES)
def any_database(request, tmp_path):
    values = {}
    if request.param == "postgres":
        values = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
        }
    with service_runtime(SPEC, tmp_path, **values) as runtime:
        yield runtime


def test_hostile_rows_are_errors_and_nothing_is_written(any_database):
    client = Client(any_database.create_app())
    hostile = (
        HEADER
        + "ERP-1,"
        + "长" * 201
        + ",dealer,east,1e400,9999-12-31,\n"
        + "ERP-2,ok,dealer,east,NaN,0001-01-01,\n"
        + "ERP-3,ok,dealer,east,18446744073709551616000,2019-03-01,"
        + "x" * 101
        + "\n"
        + "ERP-4,\u202eevil,dealer,east,1,2019-03-01,\n"
    )
    r = send(client, hostile.encode())
    assert r.status_code == 200, r.json
    assert r.json["created"] == 0
    fields = {(e["row"], e["field"]) for e in r.json["errors"]}
    assert {(2, "name"), (2, "annual_purchase_amount"), (3, "annual_purchase_amount")} <= fields
    assert {(4, "annual_purchase_amount"), (4, "owner")} <= fields
    assert customers(any_database) == []
    assert outbox_size(any_database) == 0
    r = send(client, (HEADER + ROWS).encode())
    assert r.json == {"created": 3, "updated": 0, "errors": []}
    r = send(client, (HEADER + ROWS).encode())
    assert r.json == {"created": 1, "updated": 2, "errors": []}  # the row without an id
    assert len(customers(any_database)) == 4


@pytest.mark.services
def test_two_writers_of_one_external_id_at_once_give_one_customer_and_a_409(
    postgres_url, postgres_schemas, tmp_path
):
    """Both pass the check before either commits (PostgreSQL, read committed): the second
    insert waits on the unique index, then fails: a Conflict (409), not a database error."""
    values = {"database_url": postgres_url, "db_schema_prefix": postgres_schemas}
    with service_runtime(SPEC, tmp_path, **values) as runtime:
        caller = Caller(tenant_id="tenant-a")
        data = CustomerInSchema().load({**CUSTOMER, "external_id": "ERP-RACE"})
        outcome = {}

        def second():
            try:
                with runtime.db.transaction() as session:
                    create_customer(session, runtime.outbox, caller, dict(data))
                outcome["second"] = "created"
            except Conflict as exc:
                outcome["second"] = str(exc)

        with runtime.db.transaction() as session:
            create_customer(session, runtime.outbox, caller, dict(data))
            thread = threading.Thread(target=second)
            thread.start()
            wait_until(lambda: lock_waiters(session.get_bind().engine) > 0, timeout=30)
        thread.join(timeout=30)
        assert outcome == {"second": "another customer has external_id 'ERP-RACE'"}
        assert [c.external_id for c in customers(runtime)] == ["ERP-RACE"]
