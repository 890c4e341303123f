"""Section "tenants": the KPI service's ``/metrics`` as a region grows to 10, 100 and 1,000
tenants: p50/p99 of a scrape, its size, and the business series per tenant (the cardinality
budget: at most 40, README "Metrics"; target < 100 ms at 1,000 tenants).

How:

* The KPI schema is migrated into the run's database (schema ``bench_tenants_kpi``).
* Each tenant gets the widest shape the bench's event stream makes (bench.events: 4
  customer regions, 5 visit reasons, 3 departments, 2 severities, 4 channels): a
  ``kpi_totals`` row for every combination of its labels (140 rows a tenant), its totals
  version raised (bulk.raise_versions, as the consumer's write does) and a settings row. The
  rows are written directly: /metrics reads only these tables, and the consumer's write
  path is the "scale" section's.
* A real KPI web process (gunicorn, as in "scale") serves; each size is timed one request
  at a time over a kept-alive connection: "unchanged" (the store as it is: every tenant's
  lines kept from the last scrape), and "1 tenant changed" (before each request, outside
  the timed part, one tenant's totals change through the store: that tenant is read and
  rendered again), with the web process's CPU per unchanged request (less sensitive to a
  busy machine than the wall time). The first scrape after a change of every tenant (a
  process start, a rebuild) is timed in this process: ``KpiCollector.text`` of a new
  collector ("cold").
"""

from __future__ import annotations

import random
import secrets
import sys
import time
from itertools import product

from . import scale

SECTION = "tenants"
SIZES = (10, 100, 1_000)
SCHEMA_PREFIX = "bench_tenants_"
SCHEMA = f"{SCHEMA_PREFIX}kpi"
TARGET_MS = 100.0
BUDGET = 40  # business series per tenant
REASONS = ("new_customer", "periodic", "repair", "key_account", "care")
SEVERITIES = ("general", "major")
CHANNELS = ("phone", "email", "online", "in_person")
KINDS = {  # fact kind -> the labels its rows vary by (the others empty)
    "visit": ("reason",),
    "issue": ("department",),
    "audit": (),
    "complaint": ("department", "severity", "channel"),
    "purchase": (),
    "customer": (),
}


def tenant_rows(tenant: str, rng: random.Random) -> list[dict]:
    """Every ``kpi_totals`` row of a tenant of the widest shape, small counts."""
    from kpi_service.domain import COUNTS

    from .events import DEPARTMENTS, REGIONS

    values = {
        "reason": REASONS,
        "department": DEPARTMENTS,
        "severity": SEVERITIES,
        "channel": CHANNELS,
    }
    rows = []
    for kind, labels in KINDS.items():
        for region, *picked in product(REGIONS, *(values[name] for name in labels)):
            row = {"tenant_id": tenant, "kind": kind, "region": region}
            row.update(dict.fromkeys(values, ""), **dict(zip(labels, picked, strict=True)))
            row.update({name: rng.randint(0, 50) for name in COUNTS})
            rows.append(row)
    return rows


def seed(db, tenants: list[str], rng: random.Random) -> int:
    from kpi_service import bulk
    from kpi_service.models import totals
    from revisit_common import tenant_settings

    rows = [row for tenant in tenants for row in tenant_rows(tenant, rng)]
    with db.transaction() as session:
        session.execute(totals.insert(), rows)
        bulk.raise_versions(session, tenants)
        for tenant in tenants:
            tenant_settings.store(session, tenant, 1, "Asia/Shanghai", {})
    return len(rows)


def change(db, tenant: str) -> None:
    """One more purchase for ``tenant``, as the consumer adds it (totals, then version)."""
    from kpi_service import bulk
    from kpi_service.models import totals

    with db.transaction() as session:
        session.execute(
            totals.update()
            .where(totals.c.tenant_id == tenant, totals.c.kind == "purchase")
            .values(purchases=totals.c.purchases + 1)
        )
        bulk.raise_versions(session, [tenant])


def business_series(body: bytes) -> int:
    """Samples of the KPI families (they, and only they, have a tenant label)."""
    return sum(1 for line in body.splitlines() if b'tenant="' in line and not line.startswith(b"#"))


def run(bench) -> None:
    from kpi_service.collector import KpiCollector
    from revisit_common.db import Database

    from .events import tenant_ids

    sizes = SIZES
    names = tenant_ids(max(sizes))
    token = secrets.token_urlsafe(32)
    headers = {
        "X-Revisit-Internal-Token": token,
        "X-Revisit-Tenant": names[0],
        "X-Revisit-Role": "admin",
        "X-Revisit-Actor": "bench",
    }
    data: dict = {"shape_rows_per_tenant": len(tenant_rows("t", random.Random(0))), "sizes": {}}
    bench.extra[SECTION] = data
    scale.migrate(bench, SCHEMA_PREFIX)
    db = Database(bench.postgres_url, SCHEMA)
    rng = random.Random(15)
    web = client = None
    try:
        web = scale.Web(bench, token, SCHEMA_PREFIX, SECTION)
        client = scale.Client(web.port, headers)
        web.wait_ready()
        done = 0
        for size in sizes:
            print(f"bench: tenants: seeding to {size} ...", file=sys.stderr, flush=True)
            rows = seed(db, names[done:size], rng)
            done = size
            cpu_before = web.cpu_seconds()
            unchanged = scale.time_endpoint(client, "/metrics", bench.quick)
            cpu_after = web.cpu_seconds()
            cpu = sum(t - cpu_before.get(pid, 0.0) for pid, t in cpu_after.items())
            cpu_ms = cpu * 1000 / (len(unchanged) + scale.WARMUP)  # less sensitive to load
            body = client.last_body
            series = business_series(body)

            changed: list[float] = []
            for count in range(scale.QUICK_MIN if bench.quick else scale.MIN_REQUESTS):
                change(db, names[count % size])
                changed.append(client.get("/metrics"))

            cold = []
            for _ in range(3):
                started = time.perf_counter()
                KpiCollector(db, "bench").text()
                cold.append(time.perf_counter() - started)

            per_tenant = series / size
            result = {
                "rows_added": rows,
                "series": series,
                "series_per_tenant": per_tenant,
                "body_bytes": len(body),
                "unchanged": scale.summary(unchanged),
                "one_tenant_changed": scale.summary(changed),
                "cold_ms": round(sorted(cold)[1] * 1000, 1),
                "web_cpu_ms_per_request": round(cpu_ms, 2),
            }
            data["sizes"][size] = result
            label = f"@{size} tenants"
            for p in ("p50", "p99"):
                figure = f"/metrics {p} {label}"
                if size == 1_000:
                    bench.at_most(SECTION, figure, result["unchanged"][p], TARGET_MS, "ms")
                else:
                    bench.add(SECTION, figure, result["unchanged"][p], "ms")
                value = result["one_tenant_changed"][p]
                bench.add(SECTION, f"/metrics {p}, 1 tenant changed {label}", value, "ms")
            bench.add(SECTION, f"/metrics web CPU per request {label}", cpu_ms, "ms")
            bench.add(SECTION, f"/metrics cold render {label}", result["cold_ms"], "ms")
            bench.at_most(SECTION, f"series per tenant {label}", per_tenant, BUDGET, "")
            bench.add(SECTION, f"/metrics size {label}", len(body) / 2**20, "MiB")
    finally:
        if client is not None:
            client.close()
        if web is not None:
            web.stop()
        db.dispose()
