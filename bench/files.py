"""Section "files": customer import, streamed exports and the work list (CONTRACT §4.3, §4.6),
on the embedded default (SQLite files, services in this process, as ``make run`` has them).

* **import**: ``POST /customers/import`` of a 10,000-row CSV (Chinese names) into an empty
  customer service (target < 30 s). Reference in the same run: the same customers one
  ``POST /customers`` each (the first :data:`SINGLE` rows), per row; the ratio is import time
  per row over single-request time per row.
* **export memory**: ``GET /customers/export`` (CSV and XLSX) of 1,000 and of 100,000
  customers (10,000 with ``--quick``), the response read chunk by chunk and thrown away;
  the figure is tracemalloc's peak of Python allocations while it streams. Flat means the
  larger export's peak is close to the smaller's (ratio large / small; the rows themselves
  would be ~100 times more).
* **work list**: ``GET /visits?assignee=me&due_from=&due_to=&sort=due_date&limit=50`` over a
  tenant with 100,000 visits (50 assignees, due dates over two years), p50 and p99 of
  :data:`REQUESTS` requests through the service's app (target p99 < 50 ms); reference in
  the same run: the unfiltered first page ``GET /visits?limit=50``.

Rows are written straight into the tables (one multi-row insert per batch), not through the
API, except for the import itself. ``python -m bench --only files`` runs this alone.
"""

from __future__ import annotations

import gc
import io
import random
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from revisit_common.identity import STAFF_HEADER
from revisit_common.ids import new_id
from tests.support.client import Client
from tests.support.service import service_runtime

from . import stats
from .context import Bench

SECTION = "files"
IMPORT_ROWS = 10_000
SINGLE = 500  # reference: customers registered one POST each
EXPORT_SIZES = (1_000, 100_000)
QUICK_EXPORT_SIZES = (1_000, 10_000)
VISITS = 100_000
ASSIGNEES = 50
REQUESTS, QUICK_REQUESTS = 300, 60
IMPORT_TARGET_S, LIST_TARGET_MS = 30.0, 50.0
TENANT = "tenant-a"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def import_file(rows: int) -> bytes:
    lines = ["\ufeff外部编号,客户名称,类型,区域,年采购额,合作开始日期,负责人"]
    for n in range(rows):
        lines.append(
            f"ERP-{n:06d},华东贸易{n:06d}有限公司,{('经销商', 'agent', '终端用户')[n % 3]},"
            f"{('华东', '华南', 'north')[n % 3]},{(n % 97) * 25_000},2019-03-01,agent.{n % 20}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def _customer_spec():
    from customer_service.bootstrap import SPEC

    return SPEC


def _visit_spec():
    from visit_service.bootstrap import SPEC

    return SPEC


def measure_import(bench: Bench, workdir: Path) -> None:
    content = import_file(IMPORT_ROWS)
    with service_runtime(
        _customer_spec(), workdir / "import", max_body_bytes=len(content) + 4096
    ) as rt:
        client = Client(rt.create_app())
        started = time.perf_counter()
        r = client.post(
            "/api/v1/customers/import",
            data={"file": (io.BytesIO(content), "customers.csv")},
            content_type="multipart/form-data",
        )
        seconds = time.perf_counter() - started
        assert r.status_code == 200 and r.json["created"] == IMPORT_ROWS, r.json
    with service_runtime(_customer_spec(), workdir / "single") as rt:
        client = Client(rt.create_app())
        started = time.perf_counter()
        for n in range(SINGLE):
            body = {
                "external_id": f"ERP-{n:06d}",
                "name": f"华东贸易{n:06d}有限公司",
                "type": "dealer",
                "region": "华东",
                "annual_purchase_amount": (n % 97) * 25_000,
                "cooperation_start": "2019-03-01",
                "owner": f"agent.{n % 20}",
            }
            assert client.post("/api/v1/customers", body).status_code == 201
        single = (time.perf_counter() - started) / SINGLE
    per_row = seconds / IMPORT_ROWS
    bench.extra[SECTION] = {"import_s": seconds, "single_post_ms": single * 1000}
    bench.at_most(SECTION, f"import {IMPORT_ROWS:,} rows (CSV)", seconds, IMPORT_TARGET_S, "s")
    bench.add(
        SECTION,
        "import per row / one POST /customers per row",
        per_row / single,
        "",
        note=f"{per_row * 1000:.2f} ms a row imported, {single * 1000:.2f} ms a POST",
    )


def seed_customers(db, first: int, count: int) -> None:
    from customer_service.models import Customer

    rows = []
    with db.transaction() as session:
        for n in range(first, first + count):
            rows.append(
                {
                    "id": new_id(),
                    "tenant_id": TENANT,
                    "name": f"深圳电子科技{n:06d}有限公司",
                    "external_id": f"ERP-{n:06d}",
                    "type": "dealer",
                    "region": "华南",
                    "owner": "王芳",
                    "address": "深圳市南山区科技园",
                    "annual_purchase_amount": Decimal("1500000.00"),
                    "cooperation_start": date(2019, 3, 1),
                    "overdue_days": 0,
                    "legal_dispute": False,
                    "credit_rating": "good",
                    "complaint_dates": [],
                    "satisfaction_levels": [],
                    "size_tier": "large",
                    "cooperation_tier": "long",
                    "score": 80.0,
                    "grade": "A",
                    "risk_level": "low",
                    "risk_reasons": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(rows) == 2000:
                session.execute(sa.insert(Customer), rows)
                rows = []
        if rows:
            session.execute(sa.insert(Customer), rows)


def streamed_peak(client: Client, path: str) -> tuple[float, int]:
    """(tracemalloc peak in bytes while the response streams, bytes received)."""
    gc.collect()
    tracemalloc.start()
    try:
        response = client.http.get(path, headers=client.headers(), buffered=False)
        received = 0
        for chunk in response.response:
            received += len(chunk)
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    return peak, received


def measure_export_memory(bench: Bench, workdir: Path) -> None:
    sizes = QUICK_EXPORT_SIZES if bench.quick else EXPORT_SIZES
    peaks: dict[str, dict[int, float]] = {"csv": {}, "xlsx": {}}
    seeded = 0
    with service_runtime(_customer_spec(), workdir / "export") as rt:
        client = Client(rt.create_app())
        for size in sizes:
            seed_customers(rt.db, seeded, size - seeded)
            seeded = size
            for fmt in ("csv", "xlsx"):
                peak, received = streamed_peak(client, f"/api/v1/customers/export?format={fmt}")
                peaks[fmt][size] = peak
                bench.add(
                    SECTION,
                    f"export {fmt} {size:,} rows: peak Python memory",
                    peak / 2**20,
                    "MiB",
                    note=f"{received / 2**20:.1f} MiB sent",
                )
    small, large = sizes
    bench.extra.setdefault(SECTION, {})["export_peaks"] = peaks
    for fmt in ("csv", "xlsx"):
        ratio = peaks[fmt][large] / peaks[fmt][small]
        bench.at_most(
            SECTION, f"export {fmt} peak memory {large:,} / {small:,} rows", ratio, 2.0, ""
        )


def seed_visits(db, count: int) -> None:
    from visit_service.models import Visit

    rng = random.Random(7)
    start = date(2026, 1, 1)
    rows = []
    with db.transaction() as session:
        for n in range(count):
            due = start + timedelta(days=rng.randrange(730))
            rows.append(
                {
                    "id": new_id(),
                    "tenant_id": TENANT,
                    "customer_id": f"customer-{n % 5000}",
                    "region": "east",
                    "reason": "periodic",
                    "method": "phone",
                    "due_date": due,
                    "assignee": f"agent.{n % ASSIGNEES}",
                    "status": "planned" if due >= date(2026, 12, 1) else "completed",
                    "trigger": f"bench-{n}",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(rows) == 2000:
                session.execute(sa.insert(Visit), rows)
                rows = []
        if rows:
            session.execute(sa.insert(Visit), rows)


def timed(client: Client, path: str, headers: dict, count: int) -> list[float]:
    for _ in range(5):  # warm-up
        client.get(path, headers=headers)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        r = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.json
    return samples


def measure_work_list(bench: Bench, workdir: Path) -> None:
    count = QUICK_REQUESTS if bench.quick else REQUESTS
    with service_runtime(_visit_spec(), workdir / "visits") as rt:
        seed_visits(rt.db, VISITS)
        client = Client(rt.create_app())
        me = {STAFF_HEADER: "agent.7"}
        mine = (
            "/api/v1/visits?assignee=me&due_from=2026-12-01&due_to=2027-03-31"
            "&sort=due_date&limit=50"
        )
        first = client.get(mine, headers=me).json
        assert len(first["items"]) == 50 and first["next_cursor"], first
        filtered = timed(client, mine, me, count)
        plain = timed(client, "/api/v1/visits?limit=50", {}, count)
    p50, p99 = stats.percentile(filtered, 50), stats.percentile(filtered, 99)
    ref50 = stats.percentile(plain, 50)
    bench.extra.setdefault(SECTION, {})["work_list_ms"] = {"filtered": filtered, "plain": plain}
    bench.add(
        SECTION, f"work list of {VISITS:,} visits (assignee=me, due range, sort), p50", p50, "ms"
    )
    bench.at_most(SECTION, "work list p99", p99, LIST_TARGET_MS, "ms")
    bench.add(
        SECTION,
        "work list p50 / unfiltered first page p50",
        p50 / ref50,
        "",
        note=f"unfiltered GET /visits?limit=50: p50 {ref50:.1f} ms",
    )


def run(bench: Bench) -> None:
    workdir = bench.workdir / SECTION
    measure_import(bench, workdir)
    measure_export_memory(bench, workdir)
    measure_work_list(bench, workdir)
