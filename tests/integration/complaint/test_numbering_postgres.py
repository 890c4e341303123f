"""Complaint numbers on a real PostgreSQL: concurrent creators in several OS processes get
distinct, gap-free serials; a rolled-back creation frees nothing."""

from __future__ import annotations

import multiprocessing
import queue
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from complaint_service import customers, service
from complaint_service.bootstrap import SPEC
from complaint_service.models import Complaint, counters_table
from revisit_common.runtime import ServiceRuntime
from tests.support.pg_locks import lock_waiters
from tests.support.polling import wait_until
from tests.support.settings import make_settings

from .pg_creator import TOKEN, create_many

PROCESSES = 4
PER_PROCESS = 50
THREADS = 5
NUMBER = re.compile(r"^CMP-(\d{6})-(\d{5})$")


@pytest.fixture
def pg_settings(tmp_path, postgres_url, postgres_schemas) -> dict:
    return {
        "data_dir": tmp_path,
        "database_url": postgres_url,
        "db_schema_prefix": postgres_schemas,
        "internal_token": TOKEN,
    }


@pytest.fixture
def runtime(pg_settings):
    rt = ServiceRuntime(SPEC, make_settings(**pg_settings))  # migrates the schema once, up front
    assert rt.db.is_postgres
    with rt.db.transaction() as s:  # the customers complained about, as their events left them
        customers.note_customer(s, "tenant-pg", "cust-1", "east", datetime.now(UTC))
        customers.note_customer(s, "tenant-rb", "c", "east", datetime.now(UTC))
    yield rt
    rt.close()


def test_200_complaints_from_4_processes_get_200_gap_free_serials(pg_settings, runtime):
    # One received time for all: the serials all fall in one month, whenever the test runs.
    received_at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=create_many,
            args=(pg_settings, "tenant-pg", received_at, PER_PROCESS, THREADS, barrier, results),
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    numbers = []
    try:
        for _ in workers:
            status, value = results.get(timeout=120)
            assert status == "ok", value
            numbers += value
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert all(worker.exitcode == 0 for worker in workers)

    total = PROCESSES * PER_PROCESS
    assert len(numbers) == total
    assert len(set(numbers)) == total
    periods = {NUMBER.match(n).group(1) for n in numbers}
    assert len(periods) == 1
    assert sorted(int(NUMBER.match(n).group(2)) for n in numbers) == list(range(1, total + 1))
    with runtime.db.read() as s:
        stored = s.scalars(sa.select(Complaint.number).where(Complaint.tenant_id == "tenant-pg"))
        assert sorted(stored) == sorted(numbers)
        counter = s.execute(sa.select(counters_table.c.value)).scalar_one()
        assert counter == total


def test_rolled_back_creator_frees_nothing_and_the_waiter_takes_its_serial(runtime):
    caller = service.Caller(tenant_id="tenant-rb", actor="key-1", role="agent")
    body = {
        "customer_id": "c",
        "channel": "phone",
        "severity": "major",
        "category": "quality",
        "department": "product",
        "description": "d",
        "received_at": datetime.now(UTC) - timedelta(minutes=1),
    }
    holding = threading.Event()
    rolled_back_at: list[float] = []
    got: queue.Queue = queue.Queue()

    def first():
        with pytest.raises(RuntimeError), runtime.db.transaction() as s:
            assert service.create_complaint(s, runtime.outbox, caller, body).number.endswith(
                "-00001"
            )
            holding.set()
            # The counter row stays locked until the second creator is seen waiting on it.
            wait_until(
                lambda: lock_waiters(runtime.db.engine) > 0, message="the second creator waits"
            )
            rolled_back_at.append(time.monotonic())
            raise RuntimeError("roll back")

    def second():
        holding.wait(10)
        with runtime.db.transaction() as s:
            number = service.create_complaint(s, runtime.outbox, caller, body).number
        got.put((number, time.monotonic()))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    number, finished = got.get(timeout=1)
    assert number.endswith("-00001")  # the rolled-back serial, no gap
    assert finished >= rolled_back_at[0]  # it waited for the first creator to finish
    with runtime.db.transaction() as s:
        assert service.create_complaint(s, runtime.outbox, caller, body).number.endswith("-00002")


def test_migrations_match_the_models(runtime):
    inspector = sa.inspect(runtime.db.engine)
    tables = set(inspector.get_table_names(schema=runtime.db.schema))
    expected = {
        "complaints", "complaint_ledger", "complaint_counters", "complaint_customers",
        "outbox", "inbox",
    }  # fmt: skip
    assert expected <= tables
    assert {"webhooks", "webhook_deliveries", "webhook_attempts"} & tables == set()  # notify's
    assert Path(SPEC.migrations, "versions", "0001_initial.py").exists()
