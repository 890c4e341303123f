"""Distinct customers due and visited per calendar month and year (customer_periods.py,
``kpi_customer_spans`` / ``kpi_span_customers``): ``GET /kpis``' customer figures read
through them equal the rule over the facts (policy_kpis.policy_counts) for whole months,
whole years and every other period; the rows are the facts' due visits counted per
customer, through batches, a visit moving customer and month, a time zone change, a
rebuild and revision 0011 on a store of 0010; SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from kpi_service import customer_periods, projection, store
from kpi_service.domain import Contribution
from kpi_service.models import customer_spans, facts, span_customers
from kpi_service.rebuild import rebuild
from revisit_common.db import Database
from tests.support.kpi import policy_figures
from tests.support.kpi.policy_migration import STORED, migrate_copy
from tests.support.kpi.scenario import event
from tests.support.kpi.stores import BACKENDS, backend_stores, on_postgres, one_store, stores
from tests.support.polling import wait_until

from .test_period_reads import few_customers

TENANT = policy_figures.TENANT
CUSTOMERS = customer_periods.COLUMNS


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with one_store(request, tmp_path, "spans") as db:
        yield db


# --------------------------------------------------------------------------- rules


def _visit(day: date, reason: str = "periodic", completed: bool = False) -> Contribution:
    counts = {"visits_due": 1, **({"visits_completed": 1} if completed else {})}
    return Contribution("visit", day, reason=reason, counts=counts)


def test_member_rows_move_a_visit_between_customers_and_months():
    june, july = date(2026, 6, 30), date(2026, 7, 1)
    moves = [
        ("t", None, None, _visit(june, "repair"), "c1"),  # new, due
        ("t", _visit(june, "repair"), "c1", _visit(july, "repair", True), "c2"),  # moved
        ("t", _visit(june), "c3", _visit(june, completed=True), "c3"),  # completed
        ("t", _visit(june), "c4", _visit(june), "c4"),  # no change
        ("t", None, None, _visit(june), None),  # without a customer: none
        (
            "t",
            _visit(june),
            "c5",
            Contribution("visit", june, counts={"visits_cancelled": 1}),
            "c5",
        ),
    ]
    rows = customer_periods.member_rows(moves)
    keyed = {tuple(r[k] for k in customer_periods.MEMBER_KEY): r for r in rows}
    month, year = date(2026, 7, 1), date(2026, 1, 1)
    # c1's rows cancel out (due in June, then moved away); c4 and the visit without a
    # customer move nothing
    assert [tuple(r[k] for k in customer_periods.MEMBER_KEY) for r in rows] == [
        ("t", "month", date(2026, 6, 1), "c3"),
        ("t", "month", date(2026, 6, 1), "c5"),
        ("t", "month", month, "c2"),
        ("t", "year", year, "c2"),
        ("t", "year", year, "c3"),
        ("t", "year", year, "c5"),
    ]
    both = {"customers_due": 1, "customers_visited": 1}
    assert keyed["t", "month", month, "c2"] == {
        "tenant_id": "t",
        "span": "month",
        "first_day": month,
        "customer_id": "c2",
        **both,
        "repair_customers_due": 1,
        "repair_customers_visited": 1,
    }
    assert keyed["t", "year", year, "c3"] == {  # due before and after: completed only
        "tenant_id": "t",
        "span": "year",
        "first_day": year,
        "customer_id": "c3",
        "customers_visited": 1,
    }
    assert keyed["t", "year", year, "c5"] == {
        "tenant_id": "t",
        "span": "year",
        "first_day": year,
        "customer_id": "c5",
        "customers_due": -1,
    }


def test_counter_moves_cross_zero_only():
    after, moved = customer_periods.counter_moves(
        {"customers_due": 2, "customers_visited": 1}, {"customers_due": -1, "customers_visited": -1}
    )
    assert after["customers_due"] == 1 and after["customers_visited"] == 0
    assert moved == {"customers_visited": -1}
    after, moved = customer_periods.counter_moves({}, {"repair_customers_due": 1})
    assert moved == {"repair_customers_due": 1}


@pytest.mark.parametrize(
    ("start", "end", "whole", "days", "one"),
    [
        ("2026-06-01", "2026-06-30", [("month", "2026-06-01", "2026-06-01")], [], "month"),
        ("2026-01-01", "2026-12-31", [("year", "2026-01-01", "2026-01-01")], [], "year"),
        ("2026-01-01", "2026-01-31", [("month", "2026-01-01", "2026-01-01")], [], "month"),
        ("2026-12-01", "2026-12-31", [("month", "2026-12-01", "2026-12-01")], [], "month"),
        ("2026-06-02", "2026-06-30", [], [("2026-06-02", "2026-06-30")], None),
        ("2026-05-01", "2026-06-30", [("month", "2026-05-01", "2026-06-01")], [], None),
        (
            "2024-11-15",
            "2027-02-03",
            [
                ("month", "2024-12-01", "2024-12-01"),
                ("year", "2025-01-01", "2026-01-01"),
                ("month", "2027-01-01", "2027-01-01"),
            ],
            [("2024-11-15", "2024-11-30"), ("2027-02-01", "2027-02-03")],
            None,
        ),
    ],
)
def test_spans(start, end, whole, days, one):
    d = date.fromisoformat
    got = customer_periods.spans(d(start), d(end))
    assert got == (
        [(span, d(a), d(b)) for span, a, b in whole],
        [(d(a), d(b)) for a, b in days],
    )
    assert customer_periods.one_span(d(start), d(end)) == (one and (one, d(start)))


# --------------------------------------------------------------------------- the store


def feed(db: Database, envelopes: list, batch: int = 50) -> None:
    """As the consumer applies them (logged too: a rebuild replays them)."""
    for start in range(0, len(envelopes), batch):
        with db.transaction() as session:
            projection.record(session, envelopes[start : start + batch])


def spans_of_facts(db: Database) -> tuple[dict, dict]:
    """The customers' rows and the non-zero counters, recounted from the facts as stored:
    each visit's contribution (``applied``) and customer (its state)."""
    members: dict[tuple, Counter] = {}
    with db.read() as session:
        rows = session.execute(
            sa.select(facts.c.tenant_id, facts.c.state, facts.c.applied).where(
                facts.c.kind == "visit"
            )
        ).all()
    for tenant, state, applied in rows:
        made = Contribution.from_json(applied)
        customer = ((state or {}).get("fields") or {}).get("customer_id")
        if made is None or not made.counts.get("visits_due") or customer in (None, ""):
            continue
        for span, first in (
            ("month", made.day.replace(day=1)),
            ("year", date(made.day.year, 1, 1)),
        ):
            into = members.setdefault((tenant, span, first, str(customer)), Counter())
            for name, reason in customer_periods.GROUPS.items():
                if reason is None or made.reason == reason:
                    into[f"{name}_due"] += 1
                    into[f"{name}_visited"] += made.counts.get("visits_completed", 0)
    counters: dict[tuple, Counter] = {}
    for key, counts in members.items():
        into = counters.setdefault(key[:3], Counter())
        for name in CUSTOMERS:
            into[name] += counts[name] > 0
    full = lambda counts: {n: counts[n] for n in CUSTOMERS}  # noqa: E731
    return (
        {k: full(c) for k, c in members.items()},
        {k: full(c) for k, c in counters.items()},
    )


def spans_stored(db: Database) -> tuple[dict, dict]:
    """The rows of kpi_customer_spans, and the rows of kpi_span_customers not all zero."""
    with db.read() as session:
        members = {
            tuple(r[:4]): dict(zip(CUSTOMERS, r[4:], strict=True))
            for r in session.execute(sa.select(customer_spans))
        }
        counters = {
            tuple(r[:3]): dict(zip(CUSTOMERS, r[3:], strict=True))
            for r in session.execute(sa.select(span_customers))
            if any(r[3:])
        }
    return members, counters


def check_rows(db: Database) -> None:
    stored, recounted = spans_stored(db), spans_of_facts(db)
    assert stored[0] == recounted[0]
    assert stored[1] == recounted[1]


def periods(rng: random.Random, count: int) -> list[tuple[date, date]]:
    """Every whole month and year of the stream, periods across years, random ones."""
    out = [(date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 12, 31))]
    first = date(2025, 9, 1)
    while first < date(2026, 6, 1):
        last = (first + timedelta(days=32)).replace(day=1)
        out.append((first, last - timedelta(days=1)))
        first = last
    out += [
        (date(2025, 11, 1), date(2026, 2, 28)),
        (date(2024, 12, 1), date(2026, 12, 31)),
        (date(2024, 11, 20), date(2027, 1, 5)),
        (date(2025, 10, 3), date(2026, 1, 31)),
    ]
    out += policy_figures.periods(rng, count)
    return out


def check_figures(db: Database, rng: random.Random) -> None:
    with db.read() as session:
        for start, end in periods(rng, 30):
            want = policy_figures.from_facts(session, start, end)
            assert policy_figures.from_store(session, start, end) == want, (start, end)


@pytest.mark.parametrize("seed", [11, 12])
def test_whole_months_years_and_other_periods_are_the_rule(database, seed):
    feed(database, policy_figures.stream(random.Random(seed)), batch=7 + seed)
    check_rows(database)
    check_figures(database, random.Random(seed))


def test_few_customers_many_visits(database):
    feed(database, few_customers(random.Random(13)), batch=40)
    check_rows(database)
    check_figures(database, random.Random(13))


def _visit_events(visit: str, customer: str, due: str, **extra) -> dict:
    return {
        "visit_id": visit,
        "customer_id": customer,
        "reason": "repair",
        "assignee": "a1",
        "region": "east",
        "due_date": due,
        **extra,
    }


def _scheduled(visit: str, customer: str, due: str):
    data = _visit_events(visit, customer, due, method="phone", trigger="manual")
    return event("VisitScheduled", {**data, "scheduled_at": "2025-12-01T01:00:00+00:00"}, TENANT)


def _cancelled(visit: str, customer: str, due: str):
    data = _visit_events(visit, customer, due, why=None)
    return event("VisitCancelled", {**data, "cancelled_at": "2025-12-02T01:00:00+00:00"}, TENANT)


def test_a_visit_moving_customer_and_month_a_cancel_a_zone_change_and_a_rebuild(database):
    feed(database, policy_figures.stream(random.Random(14)), batch=25)
    moved = [
        _scheduled("m1", "c1", "2026-01-31"),
        # a completion (a later stage) names another customer and due day: the visit moves
        event(
            "VisitCompleted",
            {
                **_visit_events("m1", "c99", "2026-02-01"),
                "method": "phone",
                "completed_at": "2026-02-01T03:00:00+00:00",
                "on_time": True,
                "satisfaction": "satisfied",
                "recommend_score": None,
                "repurchase_intent": None,
                "issue_ids": [],
            },
            TENANT,
        ),
        _scheduled("gone", "c98", "2026-03-03"),
        _cancelled("gone", "c98", "2026-03-03"),
    ]
    feed(database, moved, batch=1)
    check_rows(database)
    with database.read() as session:
        gone = session.execute(
            sa.select(sa.func.count()).where(customer_spans.c.customer_id == "c98")
        ).scalar()
        assert gone == 0  # back at zero: deleted
        assert (
            store.visit_customers(
                session, TENANT, date(2026, 2, 1), date(2026, 2, 28), ("repair",)
            )[None][0]
            >= 1
        )
    changed = {
        "tenant_id": TENANT,
        "timezone": "America/New_York",  # every day at 00:00-12:59 UTC moves back a day
        "settings": {},
        "settings_version": 2,
    }
    feed(database, [event("TenantSettingsChanged", changed, TENANT)])
    check_rows(database)
    check_figures(database, random.Random(14))
    before = spans_stored(database)
    rebuild(database)
    assert spans_stored(database) == before
    check_figures(database, random.Random(15))


@pytest.fixture(params=BACKENDS)
def make(request, tmp_path):
    """Stores on the backend ``request.param`` names."""
    with backend_stores(request, tmp_path) as made:
        yield made


def test_revision_0011_counts_the_stored_visits(make):
    """A store at revision 0010 given a fed store's facts, migrated: the same rows (the
    purchases' sums too)."""
    fed = make("fed")
    feed(fed, policy_figures.stream(random.Random(16)), batch=30)
    old = make("old", migrate=False)
    migrate_copy(old, fed, "0010", STORED)  # the generated columns come from these
    assert spans_stored(old) == spans_stored(fed)
    from .test_purchase_amounts import amounts_stored  # (it imports this module)

    assert amounts_stored(old) == amounts_stored(fed) != {}
    check_rows(old)
    check_figures(old, random.Random(16))


# --------------------------------------------------------------------------- concurrency


@pytest.mark.services
def test_two_writers_of_one_customer_and_month_count_it_once(postgres_url, postgres_schemas):
    """Two transactions add visits of the same customer and month at once: the second waits
    on the rows the first holds and counts from what it committed (counters exact)."""
    with stores(on_postgres(postgres_url, postgres_schemas)) as made:
        db = made("race")
        feed(db, policy_figures.stream(random.Random(17))[:1])  # the tenant
        first = db.engine.connect()
        try:
            session = Session(bind=first)
            projection.record(session, [_scheduled("r1", "cx", "2026-04-10")])
            errors: list[BaseException] = []

            def second():
                try:
                    with db.transaction() as other:
                        projection.record(other, [_scheduled("r2", "cx", "2026-04-20")])
                except BaseException as error:  # noqa: BLE001 - reported below
                    errors.append(error)

            thread = threading.Thread(target=second)
            thread.start()
            wait_until(
                lambda: _waiting_on_a_lock(db),
                message="the second writer waiting on the customer's row",
            )
            session.commit()
            thread.join(timeout=30)
            assert not thread.is_alive() and errors == []
        finally:
            first.close()
        with db.read() as reading:
            april = store.visit_customers(
                reading, TENANT, date(2026, 4, 1), date(2026, 4, 30), ("repair",)
            )
            year = store.visit_customers(
                reading, TENANT, date(2026, 1, 1), date(2026, 12, 31), ("repair",)
            )
        assert april == {None: (1, 0), "repair": (1, 0)}
        assert year == {None: (1, 0), "repair": (1, 0)}
        check_rows(db)


def _waiting_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as conn:
        waiting = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(waiting)
