"""The running purchase sums kept with each purchase (SQLite and PostgreSQL): they give the
windows a scan of the purchases gives, on any later day, and two writers recording purchases
of one customer at once both count."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from customer_service import purchase_sums
from customer_service.bootstrap import SPEC
from customer_service.models import Customer, Purchase, PurchaseSum
from revisit_common.runtime import ServiceRuntime
from tests.support.client import TOKEN, Client
from tests.support.clock import FakeClock
from tests.support.customers import ACME
from tests.support.outbox import events_of
from tests.support.settings import make_settings
from tests.support.webhooks import DATABASES

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(params=DATABASES)
def service(request, tmp_path):
    database = {}
    if request.param == "postgres":
        database = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
        }
    settings = make_settings(data_dir=tmp_path, internal_token=TOKEN, **database)
    runtime = ServiceRuntime(SPEC, settings, clock=FakeClock(NOW))
    yield runtime
    runtime.close()


def scanned(session, customer_id: str, today: date) -> tuple[Decimal, int, Decimal]:
    """The windows as the purchases themselves give them."""
    year_ago = datetime.combine(today - timedelta(days=365), datetime.min.time(), UTC)
    two_years_ago = datetime.combine(today - timedelta(days=730), datetime.min.time(), UTC)
    rows = session.execute(
        sa.select(Purchase.amount, Purchase.purchased_at).where(Purchase.customer_id == customer_id)
    ).all()
    last = [Decimal(a) for a, at in rows if at >= year_ago]
    prev = [Decimal(a) for a, at in rows if two_years_ago <= at < year_ago]
    return sum(last, Decimal(0)), len(last), sum(prev, Decimal(0))


def buy(client, cid: str, amount: str, at: datetime):
    r = client.post(
        f"/api/v1/customers/{cid}/purchases",
        {"amount": amount, "product": "Pump X", "purchased_at": at.isoformat()},
    )
    assert r.status_code == 201, r.json
    return r


def test_the_sums_read_as_the_scanned_purchases_on_any_later_day(service):
    client = Client(service.create_app())
    cid = client.post("/api/v1/customers", ACME).json["id"]
    rng = random.Random(7)
    for _ in range(150):
        at = NOW - timedelta(minutes=rng.randrange(0, 800 * 24 * 60))
        buy(client, cid, f"{rng.randrange(1, 10**7)}.{rng.randrange(100):02d}", at)
    for edge in (365, 730):  # right on the window edges of today (Shanghai: 2026-06-01)
        buy(client, cid, "3.00", datetime(2026, 6, 1, tzinfo=UTC) - timedelta(days=edge))
    with service.db.read() as session:
        customer = session.get(Customer, cid)
        assert customer.purchase_count == 152
        last, _, _ = scanned(session, cid, date(2026, 6, 1))
        assert customer.annual_purchase_amount == last
        for offset in range(0, 800, 7):
            today = date(2026, 6, 1) + timedelta(days=offset)
            assert purchase_sums.totals(session, cid, today) == scanned(session, cid, today)
        count = session.scalar(sa.select(sa.func.count()).select_from(PurchaseSum))
    assert count <= 152 * 2


def test_first_purchase_then_not(service):
    client = Client(service.create_app())
    cid = client.post("/api/v1/customers", ACME).json["id"]
    buy(client, cid, "10.00", NOW - timedelta(days=400))
    buy(client, cid, "20.00", NOW - timedelta(days=1))
    recorded = events_of(service, "PurchaseRecorded")
    assert [e["data"]["first_purchase"] for e in recorded] == [True, False]
    assert client.get(f"/api/v1/customers/{cid}").json["annual_purchase_amount"] == "20.00"


@pytest.mark.services
@pytest.mark.parametrize("service", ["postgres"], indirect=True)
def test_two_writers_on_one_customer_both_count(service):
    app = service.create_app()
    cid = Client(app).post("/api/v1/customers", ACME).json["id"]
    per_writer, failures = 25, []

    def write(seed: int) -> None:
        client = Client(app)
        for n in range(per_writer):
            r = client.post(
                f"/api/v1/customers/{cid}/purchases",
                {"amount": 100 + seed, "product": "P", "purchased_at": "2026-05-31T10:00:00Z"},
            )
            if r.status_code != 201:
                failures.append((seed, n, r.status_code))

    writers = [threading.Thread(target=write, args=(seed,)) for seed in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert failures == []
    expected = Decimal(per_writer * 101 + per_writer * 102)
    customer = Client(app).get(f"/api/v1/customers/{cid}").json
    assert Decimal(customer["annual_purchase_amount"]) == expected
    with service.db.read() as session:
        assert session.get(Customer, cid).purchase_count == 2 * per_writer
        sums = session.execute(
            sa.select(PurchaseSum.span, PurchaseSum.amount_cents, PurchaseSum.count)
        ).all()
    total = int(expected * 100)
    assert sorted(sums) == [("day", total, 2 * per_writer), ("month", total, 2 * per_writer)]
    first = [e["data"]["first_purchase"] for e in events_of(service, "PurchaseRecorded")]
    assert first.count(True) == 1


def test_adding_starts_the_sums_then_adds_to_them(service):
    cid = Client(service.create_app()).post("/api/v1/customers", ACME).json["id"]
    may, june = datetime(2026, 5, 31, 23, 59, tzinfo=UTC), datetime(2026, 6, 1, 0, 1, tzinfo=UTC)
    with service.db.transaction() as session:
        purchase_sums.add(session, cid, Decimal("10.05"), may)
        purchase_sums.add(session, cid, Decimal("0.01"), may)
    with service.db.transaction() as session:
        purchase_sums.add(session, cid, Decimal("123456789.99"), june)
        assert purchase_sums.totals(session, cid, date(2026, 6, 1)) == (
            Decimal("123456800.05"),
            3,
            Decimal("0"),
        )
    with service.db.read() as session:
        sums = session.execute(
            sa.select(
                PurchaseSum.span, PurchaseSum.start, PurchaseSum.amount_cents, PurchaseSum.count
            )
            .where(PurchaseSum.customer_id == cid)
            .order_by(PurchaseSum.span, PurchaseSum.start)
        ).all()
    assert [tuple(row) for row in sums] == [
        ("day", date(2026, 5, 31), 1006, 2),
        ("day", date(2026, 6, 1), 12345678999, 1),
        ("month", date(2026, 5, 1), 1006, 2),
        ("month", date(2026, 6, 1), 12345678999, 1),
    ]
