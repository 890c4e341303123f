"""The running purchase sums of a customer in its database: added to as each purchase is
recorded (in its transaction), read for the 12-month windows (the rule is in
``purchase_windows``). Both statements are built once; a request only binds values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from revisit_common import db

from . import purchase_windows as windows
from .models import Purchase, PurchaseSum

SUMS, PURCHASES = PurchaseSum.__table__, Purchase.__table__


def _added(insert) -> sa.Insert:
    """Add one purchase to its day's and its month's sums (``customer_id``, the ``day`` and
    ``month`` starts, ``amount_cents``), starting them if missing: one upsert of two rows."""
    both = [
        {"customer_id": sa.bindparam("customer_id"), "span": span, "start": sa.bindparam(span)}
        for span in (windows.DAY, windows.MONTH)
    ]
    statement = insert(SUMS).values(
        [{**row, "amount_cents": sa.bindparam("amount_cents"), "count": 1} for row in both]
    )
    return statement.on_conflict_do_update(
        index_elements=[SUMS.c.customer_id, SUMS.c.span, SUMS.c.start],
        set_={
            "amount_cents": SUMS.c.amount_cents + statement.excluded.amount_cents,
            "count": SUMS.c.count + 1,
        },
    )


ADDED = {"postgresql": _added(postgresql.insert), "sqlite": _added(sqlite.insert)}


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
INSERT_PURCHASE = sa.insert(PURCHASES)


def _recorded() -> sa.Select:
    """PostgreSQL: the purchase inserted, added to its day's and its month's sums, and the
    windows' totals read, in one statement. Its SELECT reads the sums as they were before the
    statement (a data-modifying CTE's changes are not visible to the rest of its
    statement): :func:`record` adds the purchase itself."""
    purchase = sa.insert(PURCHASES).values(
        {column.key: sa.bindparam(f"p_{column.key}") for column in PURCHASES.columns}
    )
    return TOTALS.add_cte(purchase.cte("purchase"), _added(postgresql.insert).cte("sums"))


RECORDED = _recorded()


def record(session: Session, purchase: dict, today: date) -> tuple[Decimal, int, Decimal]:
    """Insert ``purchase`` (a purchases row, every column), add it to its day's and its
    month's sums, and give the customer's windows on ``today`` with it (:func:`totals`):
    one statement on PostgreSQL. The totals are read before the sums are added to, then
    the purchase is added to them as the stored sums will count it."""
    customer_id = purchase["customer_id"]
    amount_cents = windows.cents(purchase["amount"])
    (_, day), (_, month) = windows.sums_for(purchase["purchased_at"])
    bounds = _bounds(windows.selection(today))
    if session.get_bind().dialect.name == "postgresql":
        values = {f"p_{name}": value for name, value in purchase.items()}
        values.update(bounds, customer_id=customer_id, amount_cents=amount_cents)
        values.update({windows.DAY: day, windows.MONTH: month})
        (before,) = db.run(session, RECORDED, values)
    else:
        (before,) = db.run(session, TOTALS, {**bounds, "customer_id": customer_id})
        db.run(session, INSERT_PURCHASE, purchase)
        add(session, customer_id, purchase["amount"], purchase["purchased_at"])
    sums = {(windows.DAY, day): (amount_cents, 1), (windows.MONTH, month): (amount_cents, 1)}
    last, count, prev = windows.window_totals(sums, today)
    return (
        windows.amount_of(int(before[0]) + last),
        int(before[1]) + count,
        windows.amount_of(int(before[2]) + prev),
    )


def add(session: Session, customer_id: str, amount: Decimal, purchased_at: datetime) -> None:
    """Add one purchase to its day's and its month's sums: upserts, so two writers that
    start the same day's sum at once both count (the row of the first, added to by the
    second)."""
    (_, day), (_, month) = windows.sums_for(purchased_at)
    values = {
        "customer_id": customer_id,
        windows.DAY: day,
        windows.MONTH: month,
        "amount_cents": windows.cents(amount),
    }
    db.run(session, ADDED[session.get_bind().dialect.name], values)


def totals(session: Session, customer_id: str, today: date) -> tuple[Decimal, int, Decimal]:
    """``(last_12m, count_12m, prev_12m)`` of a customer on ``today``: one query over at most
    about 90 sums (:func:`purchase_windows.selection`)."""
    bounds = _bounds(windows.selection(today))
    (row,) = db.run(session, TOTALS, {**bounds, "customer_id": customer_id})
    return windows.amount_of(row[0]), int(row[1]), windows.amount_of(row[2])


def _bounds(chosen: windows.Selection) -> dict[str, date]:
    """The bound values of :data:`TOTALS` for ``chosen``, but the customer."""
    (day0_low, day0_high), (day1_low, day1_high) = chosen.day_ranges
    (month0_low, month0_high), (month1_low, _) = chosen.month_ranges
    return {
        "year_ago": chosen.year_ago,
        "day0_low": day0_low,
        "day0_high": day0_high,
        "day1_low": day1_low,
        "day1_high": day1_high,
        "month0_low": month0_low,
        "month0_high": month0_high,
        "month1_low": month1_low,
    }
