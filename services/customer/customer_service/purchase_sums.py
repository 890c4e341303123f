"""The running purchase sums of a customer in its database: added to as each purchase is
recorded (in its transaction), read for the 12-month windows (the rule is in
``purchase_windows``). Both statements are built once; a request only binds values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import purchase_windows as windows
from .models import PurchaseSum

SUMS = PurchaseSum.__table__


def _upsert(insert) -> sa.Insert:
    """Add one purchase to the ``(customer_id, span, start)`` sum, starting it if missing."""
    statement = insert(SUMS).values(
        customer_id=sa.bindparam("customer_id"),
        span=sa.bindparam("span"),
        start=sa.bindparam("start"),
        amount_cents=sa.bindparam("amount_cents"),
        count=1,
    )
    return statement.on_conflict_do_update(
        index_elements=[SUMS.c.customer_id, SUMS.c.span, SUMS.c.start],
        set_={
            "amount_cents": SUMS.c.amount_cents + statement.excluded.amount_cents,
            "count": SUMS.c.count + 1,
        },
    )


UPSERTS = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def _totals() -> sa.Select:
    """Last 12 months' cents and count, previous 12 months' cents, from the sums a
    :class:`purchase_windows.Selection` names (its ranges as the bound values). Each range is
    a term of its own with the whole key (customer, span, start range), so the database
    reads the primary key's ranges and nothing else of the customer's sums."""
    start = SUMS.c.start
    customer = SUMS.c.customer_id == sa.bindparam("customer_id")

    def span_from(span: str, name: str, upper: bool = True) -> sa.ColumnElement:
        terms = [customer, SUMS.c.span == span, start >= sa.bindparam(f"{name}_low")]
        if upper:
            terms.append(start < sa.bindparam(f"{name}_high"))
        return sa.and_(*terms)

    last = start >= sa.bindparam("year_ago")
    return sa.select(
        sa.func.coalesce(sa.func.sum(sa.case((last, SUMS.c.amount_cents), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((last, SUMS.c.count), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((last, 0), else_=SUMS.c.amount_cents)), 0),
    ).where(
        sa.or_(
            span_from(windows.DAY, "day0"),
            span_from(windows.DAY, "day1"),
            span_from(windows.MONTH, "month0"),
            span_from(windows.MONTH, "month1", upper=False),
        )
    )


TOTALS = _totals()


def add(session: Session, customer_id: str, amount: Decimal, purchased_at: datetime) -> None:
    """Add one purchase to its day's and its month's sums: upserts, so two writers that
    start the same day's sum at once both count (the row of the first, added to by the
    second)."""
    amount_cents = windows.cents(amount)
    rows = [
        {"customer_id": customer_id, "span": span, "start": start, "amount_cents": amount_cents}
        for span, start in windows.sums_for(purchased_at)
    ]
    session.execute(UPSERTS[session.get_bind().dialect.name], rows)


def totals(session: Session, customer_id: str, today: date) -> tuple[Decimal, int, Decimal]:
    """``(last_12m, count_12m, prev_12m)`` of a customer on ``today``: one query over at most
    about 90 sums (:func:`purchase_windows.selection`)."""
    chosen = windows.selection(today)
    (day0_low, day0_high), (day1_low, day1_high) = chosen.day_ranges
    (month0_low, month0_high), (month1_low, _) = chosen.month_ranges
    row = session.execute(
        TOTALS,
        {
            "customer_id": customer_id,
            "year_ago": chosen.year_ago,
            "day0_low": day0_low,
            "day0_high": day0_high,
            "day1_low": day1_low,
            "day1_high": day1_high,
            "month0_low": month0_low,
            "month0_high": month0_high,
            "month1_low": month1_low,
        },
    ).one()
    return windows.amount_of(row[0]), int(row[1]), windows.amount_of(row[2])
