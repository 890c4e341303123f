"""The KPIs as the policies define them (DOMAIN.md §6), beside those of §5: pure rules.

The daily aggregates cannot give these: they count customers once however many visits they
had, date complaints by their resolve limit rather than their arrival, and sum units and
amounts sold. So they are counted from the facts themselves (kind, merged state), with the
same contributions (:func:`domain.contribution`) as the aggregates, so they agree with them:

* ``customers_due``: distinct customers with a visit in ``visits_due`` of the period (due
  then, not cancelled); ``customers_visited``: of those, with a completed one.
* ``complaints_resolve_due``: complaints whose resolve limit (``deadlines.resolve_by`` at
  intake) falls in the period; ``complaints_resolved_within_limit``: of those, resolved
  (and not reopened since) within it. A complaint with no resolve limit is in neither.
* ``repair_customers_due`` / ``_visited`` and ``new_customers_due`` / ``_visited``: the same
  over visits of reason ``repair`` and ``new_customer``, against the tenant's rollout targets
  (:func:`rollout`: visit at least 50% of repair and 10% of new customers by default).
* ``units_sold``: the quantity of the period's purchases (1 for a purchase without one);
  ``sales_amount`` / ``previous_sales_amount``: their amounts (Decimal), this period and the
  one of equal length before.

:func:`policy_counts` is the definition, over the facts; ``GET /kpis`` gets the same counts
from numbers the database counts over the facts' derived columns (models.DERIVED: a visit's
customer, reason and flags, a complaint's on-time flag, a purchase's units and plain amount;
store.visit_customers, complaints_by_limit, purchase_sums) through :func:`counts_from`, so a
period costs an index range of narrow rows, not a decoding of every fact.

Rates (``None`` when the denominator is 0): customer visit completion = customers visited /
due; complaint on-time = resolved within limit / resolve limit due; incidence per unit =
complaints / units sold; customer complaint rate = complaints / customers (registered up to
the period's end: the same ratio as ``complaint_rate``, under the policy's name); sales
growth = (amount − previous) / previous; satisfaction change = this period's satisfaction
rate − the previous one's (both needed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .domain import contribution, ratio, resolve_limit_day
from .domain import units as quantity  # units of a purchase, as the aggregates count them

KINDS = ("visit", "complaint", "purchase")  # the facts these figures read
# Rollout targets (DOMAIN.md §5): the share of repair and of new customers visited, each
# counted like customers_due / customers_visited over visits of that reason.
ROLLOUT_REASONS = {"repair": "repair_customers", "new_customer": "new_customers"}
# The targets are the visit service's settings (section "visits", effective values in the
# tenant's settings copy); these defaults stand in only when a copy lacks them.
ROLLOUT_SETTINGS = {
    "repair": "rollout_target_repair",
    "new_customer": "rollout_target_new_customer",
}
ROLLOUT_DEFAULTS = {"repair": 0.5, "new_customer": 0.1}
INT_COUNTS = (
    "customers_due",
    "customers_visited",
    "repair_customers_due",
    "repair_customers_visited",
    "new_customers_due",
    "new_customers_visited",
    "complaints_resolve_due",
    "complaints_resolved_within_limit",
    "units_sold",
    "previous_visits_rated",
    "previous_visits_satisfied",
)
AMOUNTS = ("sales_amount", "previous_sales_amount")
RATES: dict[str, tuple[str, str]] = {
    "customer_visit_completion_rate": ("customers_visited", "customers_due"),
    "complaint_on_time_rate": ("complaints_resolved_within_limit", "complaints_resolve_due"),
    "complaint_incidence_per_unit": ("complaints", "units_sold"),
    "customer_complaint_rate": ("complaints", "customers"),
    "repair_customer_visit_rate": ("repair_customers_visited", "repair_customers_due"),
    "new_customer_visit_rate": ("new_customers_visited", "new_customers_due"),
}
FIGURES = (*RATES, "sales_growth_rate", "satisfaction_change")
SALES = {"amount": "sales_amount", "previous_amount": "previous_sales_amount"}

Period = tuple[date, date]
Fact = tuple[str, Mapping[str, Any]]  # (kind, state)


def amount(value: Any) -> Decimal:
    """A purchase's amount (a decimal string); 0 when absent or unreadable."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def _within(day: date, period: Period | None) -> bool:
    return period is not None and period[0] <= day <= period[1]


def policy_counts(
    facts: Iterable[Fact], timezone: str, period: Period, previous: Period | None
) -> dict[str, Any]:
    """The counts above for ``period`` (and the previous period's sales amount)."""
    due: dict[str, set[str]] = {key: set() for key in ("customers", *ROLLOUT_REASONS.values())}
    visited: dict[str, set[str]] = {key: set() for key in due}
    out: dict[str, Any] = dict.fromkeys(INT_COUNTS, 0) | dict.fromkeys(AMOUNTS, Decimal(0))
    for kind, state in facts:
        fields = state.get("fields") or {}
        part = contribution(kind, state, timezone)
        if kind == "complaint":
            limit = resolve_limit_day(fields, timezone)
            if limit is not None and _within(limit, period):
                out["complaints_resolve_due"] += 1
                met = part.counts.get("complaints_resolved_on_time", 0) if part else 0
                out["complaints_resolved_within_limit"] += met
        if part is None:
            continue
        if kind == "visit" and _within(part.day, period) and part.counts.get("visits_due"):
            customer = fields.get("customer_id")
            if customer not in (None, ""):
                for key in ("customers", ROLLOUT_REASONS.get(fields.get("reason"))):
                    if key is not None:
                        due[key].add(str(customer))
                        if part.counts.get("visits_completed"):
                            visited[key].add(str(customer))
        elif kind == "purchase":
            if _within(part.day, period):
                out["units_sold"] += quantity(fields.get("quantity"))
                out["sales_amount"] += amount(fields.get("amount"))
            elif _within(part.day, previous):
                out["previous_sales_amount"] += amount(fields.get("amount"))
    for key in due:
        out[f"{key}_due"], out[f"{key}_visited"] = len(due[key]), len(visited[key])
    return out


def plain_sum(cents: int | None, places: int | None) -> Decimal:
    """The sum of plain amounts (at most 2 decimals) given as hundredths, written with as
    many decimals as the most precise of them (as adding them as decimals writes it)."""
    if cents is None:
        return Decimal(0)
    return Decimal(cents).scaleb(-2).quantize(Decimal(1).scaleb(-(places or 0)))


def sales_sum(part: Mapping[str, Any]) -> Decimal:
    """A period's amount from the store's sums (store.purchase_sums): the plain amounts'
    hundredths plus each of the others read as :func:`amount` reads it."""
    total = plain_sum(part.get("cents"), part.get("places"))
    for value in part.get("others", ()):
        total += amount(value)
    return total


def counts_from(
    customers: Mapping[str | None, tuple[int, int]],
    complaints: tuple[int, int],
    sales: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """:func:`policy_counts` from the numbers the store counts over a period's facts:
    ``customers`` (store.visit_customers: None and each rollout reason -> distinct customers
    due, visited), ``complaints`` (resolve limit due, resolved within it) and ``sales``
    (store.purchase_sums: "period" and "previous")."""
    out: dict[str, Any] = dict.fromkeys(INT_COUNTS, 0)
    for reason, key in (("", "customers"), *ROLLOUT_REASONS.items()):
        due, visited = customers.get(reason or None, (0, 0))
        out[f"{key}_due"], out[f"{key}_visited"] = due, visited
    out["complaints_resolve_due"], out["complaints_resolved_within_limit"] = complaints
    out["units_sold"] = sales["period"].get("units", 0)
    out["sales_amount"] = sales_sum(sales["period"])
    out["previous_sales_amount"] = sales_sum(sales["previous"])
    return out


def rollout_targets(visit_settings: Mapping[str, Any]) -> dict[str, float]:
    """reason → least share of its customers to visit, from the tenant's visit settings."""
    out = {}
    for reason, name in ROLLOUT_SETTINGS.items():
        value = visit_settings.get(name)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        out[reason] = float(value) if ok else ROLLOUT_DEFAULTS[reason]
    return out


def rollout(counts: Mapping[str, Any], targets: Mapping[str, float]) -> dict[str, dict]:
    """The rollout targets (``targets``: reason → least share of its customers visited) beside
    the period's shares: ``met`` is None while no such customer was due."""
    out = {}
    for reason, key in ROLLOUT_REASONS.items():
        rate = ratio(counts.get(f"{key}_visited", 0), counts.get(f"{key}_due", 0))
        target = targets[reason]
        out[reason] = {
            "customers_due": counts.get(f"{key}_due", 0),
            "customers_visited": counts.get(f"{key}_visited", 0),
            "rate": rate,
            "target": target,
            "met": None if rate is None else rate >= target,
        }
    return out


def growth(current: Decimal, previous: Decimal) -> float | None:
    """(current − previous) / previous; None when there was nothing before."""
    return None if previous == 0 else float((current - previous) / previous)


def change(current: float | None, previous: float | None) -> float | None:
    return None if current is None or previous is None else current - previous


def policy_figures(counts: Mapping[str, Any]) -> dict[str, float | None]:
    """The policies' rates from ``counts``: those of :func:`policy_counts` plus
    ``complaints``, ``customers``, ``visits_rated`` and ``visits_satisfied`` of the period."""
    out = {name: ratio(counts.get(n, 0), counts.get(d, 0)) for name, (n, d) in RATES.items()}
    out["sales_growth_rate"] = growth(counts["sales_amount"], counts["previous_sales_amount"])
    out["satisfaction_change"] = change(
        ratio(counts.get("visits_satisfied", 0), counts.get("visits_rated", 0)),
        ratio(counts["previous_visits_satisfied"], counts["previous_visits_rated"]),
    )
    return out
