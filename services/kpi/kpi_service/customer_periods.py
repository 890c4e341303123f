"""Distinct customers due and visited per calendar month and year, kept as facts change.

``GET /kpis`` reports customers with a visit due in the period (``customers_due``), those of
them with one completed (``customers_visited``), and the same over visits of each rollout
reason (policy_kpis.py). Counting them from the period's visits costs every visit of the
period (a year of a large tenant: ~90k). So the projection also keeps, per tenant, calendar
month or year (``span``, its first day) and customer, how many of the customer's visits
count (:data:`COLUMNS`: a due visit with a customer, as index ``kpi_facts_visit_customers``
holds them), and per tenant and span how many customers have each count above zero: a
whole month or year is then one row, and any other period reads the customers' rows of its
whole years and months with the visits of its edge days only (store.visit_customers).

Pure rules: which rows a fact's move from one contribution to another changes
(:func:`member_rows`), and how a period splits into spans (:func:`spans`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from .domain import Contribution, split_period
from .policy_kpis import ROLLOUT_REASONS

MONTH, YEAR = "month", "year"
# Count name -> the visit reason it is limited to (None: every reason); per customer and
# span, each column ``<name>_due`` counts its due visits, ``<name>_visited`` the completed
# ones; per span, the same column counts the customers with some.
GROUPS: dict[str, str | None] = {
    "customers": None,
    **{name: reason for reason, name in ROLLOUT_REASONS.items()},
}
COLUMNS = tuple(f"{name}_{part}" for name in GROUPS for part in ("due", "visited"))
MEMBER_KEY = ("tenant_id", "span", "first_day", "customer_id")
COUNTER_KEY = MEMBER_KEY[:3]


def customer_of(state: Mapping[str, Any] | None) -> str | None:
    """A visit fact's customer as the store keys it (None when absent or ""), as the
    definition (policy_kpis.policy_counts) reads it."""
    fields = (state or {}).get("fields") or {}
    customer = fields.get("customer_id")
    return None if customer in (None, "") else str(customer)


def _counts(made: Contribution) -> dict[str, int]:
    """What a visit's contribution adds to its customer's row of a span (none: not due)."""
    if made.kind != "visit" or not made.counts.get("visits_due"):
        return {}
    completed = 1 if made.counts.get("visits_completed") else 0
    out = {}
    for name, reason in GROUPS.items():
        if reason is None or made.reason == reason:
            out[f"{name}_due"] = 1
            out[f"{name}_visited"] = completed
    return out


@lru_cache(maxsize=4096)
def span_starts(day: date) -> tuple[tuple[str, date], tuple[str, date]]:
    """The month and the year ``day`` is in, each by its first day."""
    return (MONTH, day.replace(day=1)), (YEAR, date(day.year, 1, 1))


Move = tuple[str, Contribution | None, str | None, Contribution | None, str | None]


def member_rows(moves: Iterable[Move]) -> list[dict[str, Any]]:
    """The counts to add to the customers' rows so that every fact goes from its old
    contribution and customer to its new ones (moves: tenant, old, old customer, new, new
    customer), one row per key in key order (:data:`MEMBER_KEY`), those that cancel out
    left out."""
    sums: dict[tuple, dict[str, int]] = {}
    for tenant, old, old_customer, new, new_customer in moves:
        if old_customer == new_customer and _same_place(old, new):
            continue  # (an overdue visit, a rating: most moves) nothing to add
        for made, customer, sign in ((old, old_customer, -1), (new, new_customer, 1)):
            if made is None or customer is None:
                continue
            counts = _counts(made)
            if not counts:
                continue
            for span, first in span_starts(made.day):
                into = sums.setdefault((tenant, span, first, customer), {})
                for name, value in counts.items():
                    into[name] = into.get(name, 0) + sign * value
    rows = []
    for key in sorted(sums):
        counts = {name: value for name, value in sums[key].items() if value}
        if counts:
            rows.append({**dict(zip(MEMBER_KEY, key, strict=True)), **counts})
    return rows


def _same_place(old: Contribution | None, new: Contribution | None) -> bool:
    """Whether two contributions of a visit add the same to its customer's rows."""
    if old is None or new is None:
        return old is new
    return (old.day, old.reason, _flags(old)) == (new.day, new.reason, _flags(new))


def _flags(made: Contribution) -> tuple:
    return (made.kind, made.counts.get("visits_due"), made.counts.get("visits_completed"))


def counter_moves(
    before: Mapping[str, int], delta: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """A customer's row of a span with ``delta`` added to ``before``: its new counts, and
    what its span's customer counters move by (+1 a count going above zero, -1 to zero)."""
    after = {name: before.get(name, 0) + delta.get(name, 0) for name in COLUMNS}
    moved = {
        name: (after[name] > 0) - (before.get(name, 0) > 0)
        for name in COLUMNS
        if (after[name] > 0) != (before.get(name, 0) > 0)
    }
    return after, moved


Spans = tuple[list[tuple[str, date, date]], list[tuple[date, date]]]


def spans(start: date, end: date) -> Spans:
    """``start``..``end`` as whole calendar years and months ((span, first, last) by their
    first days: a run of whole years, runs of whole months outside them) and the days of
    its partial edge months, whose visits are read one by one."""
    months, days = split_period(start, end)
    if months is None:
        return [], days
    first, last = months  # first days of the first and last whole months
    years = (first.year if first.month == 1 else first.year + 1, last.year - (last.month != 12))
    if years[0] > years[1]:
        return [(MONTH, first, last)], days
    out = []
    if first < date(years[0], 1, 1):
        out.append((MONTH, first, date(years[0] - 1, 12, 1)))
    out.append((YEAR, date(years[0], 1, 1), date(years[1], 1, 1)))
    if last > date(years[1], 12, 1):
        out.append((MONTH, date(years[1] + 1, 1, 1), last))
    return out, days


def one_span(start: date, end: date) -> tuple[str, date] | None:
    """The one calendar month or year that ``start``..``end`` is exactly, if it is one."""
    whole, days = spans(start, end)
    if days or len(whole) != 1 or whole[0][1] != whole[0][2]:
        return None
    return whole[0][0], whole[0][1]
