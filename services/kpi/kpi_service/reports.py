"""The management reports of DOMAIN.md §6, from the KPI facts: pure rules.

* Root causes ("Prevention"): complaints (by received day) and issues raised on visits (by
  raised day) counted per category × department, this period beside the period of equal
  length before; ``change`` = count − previous.
* Visit summary ("Summary report"): for the visits due in the period (the cohort of
  ``GET /kpis``), satisfaction per level and NPS; the repurchase share (customers with two
  or more purchases in the period / customers with a purchase in it); issues raised in the
  period per category; the customers' needs (the most frequent texts of the completed
  visits, whitespace and case folded, :data:`TOP`) and competitor mentions (per product
  named in ``competitor_info.products``, once per visit, folded the same way, :data:`TOP`);
  the customers' suggestions (``service_feedback`` texts, folded and ranked like needs);
  all of it for the tenant and per region.

Every fact is dated and placed by its contribution (:func:`domain.contribution`), so the
reports agree with ``GET /kpis``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .domain import LEVELS, SATISFIED, contribution, nps, ratio

ROOT_CAUSE_KINDS = ("complaint", "issue")
SUMMARY_KINDS = ("visit", "purchase", "issue")
ROOT_CAUSE_SECTIONS = {"complaint": "complaints", "issue": "issues"}
TOP = 20  # needs texts, competitors and suggestions listed, the most frequent first

Period = tuple[date, date]
Fact = tuple[str, Mapping[str, Any]]  # (kind, state)


def _in(day: date, period: Period | None) -> bool:
    return period is not None and period[0] <= day <= period[1]


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def folded(value: Any) -> str | None:
    """Free text as one key: whitespace runs made one space, trimmed, case folded; None when
    nothing is left (or it is not text)."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()).casefold() or None


def competitors_named(info: Any) -> set[str]:
    """The competitor products a visit's ``competitor_info`` names, folded (each once)."""
    products = info.get("products") if isinstance(info, Mapping) else None
    if not isinstance(products, list):
        return set()
    return {name for name in map(folded, products) if name is not None}


def _top(counter: Counter, key: str) -> list[dict[str, Any]]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return [{key: name, "count": count} for name, count in ranked]


# --------------------------------------------------------------------------- root causes


def root_causes(
    facts: Iterable[Fact], timezone: str, period: Period, previous: Period | None
) -> dict[str, list[dict[str, Any]]]:
    """Per section (complaints, issues), one row per category × department seen in either
    period: ``count``, ``previous`` and ``change``; the most frequent first, then the
    fastest rising."""
    now: dict[str, Counter] = {section: Counter() for section in ROOT_CAUSE_SECTIONS.values()}
    before: dict[str, Counter] = {section: Counter() for section in ROOT_CAUSE_SECTIONS.values()}
    for kind, state in facts:
        section = ROOT_CAUSE_SECTIONS.get(kind)
        part = contribution(kind, state, timezone) if section else None
        if part is None:
            continue
        fields = state.get("fields") or {}
        key = (_text(fields.get("category")), _text(fields.get("department")))
        if _in(part.day, period):
            now[section][key] += 1
        elif _in(part.day, previous):
            before[section][key] += 1
    return {section: _rows(now[section], before[section]) for section in now}


def _rows(now: Counter, before: Counter) -> list[dict[str, Any]]:
    rows = []
    for category, department in set(now) | set(before):
        count, previous = now[category, department], before[category, department]
        rows.append(
            {
                "category": category,
                "department": department,
                "count": count,
                "previous": previous,
                "change": count - previous,
            }
        )
    rows.sort(key=lambda r: (-r["count"], -r["change"], r["category"] or "", r["department"] or ""))
    return rows


# --------------------------------------------------------------------------- visit summary


@dataclass
class Summary:
    """What the visit summary counts, for the tenant or one region."""

    levels: Counter = field(default_factory=Counter)
    nps_counts: Counter = field(default_factory=Counter)
    purchases: Counter = field(default_factory=Counter)  # per customer
    issues: Counter = field(default_factory=Counter)  # per category
    needs: Counter = field(default_factory=Counter)  # per folded needs text
    competitors: Counter = field(default_factory=Counter)  # per folded product name
    suggestions: Counter = field(default_factory=Counter)  # per folded service_feedback

    def to_json(self) -> dict[str, Any]:
        rated = sum(self.levels[level] for level in LEVELS)
        satisfied = sum(self.levels[level] for level in SATISFIED)
        buyers = len(self.purchases)
        repeat = sum(1 for count in self.purchases.values() if count >= 2)
        issues = sorted(self.issues.items(), key=lambda item: (-item[1], item[0] or ""))
        return {
            "satisfaction": {
                "levels": {level: self.levels[level] for level in LEVELS},
                "rated": rated,
                "satisfied": satisfied,
                "rate": ratio(satisfied, rated),
            },
            "repurchase": {
                "customers": buyers,
                "repeat_customers": repeat,
                "share": ratio(repeat, buyers),
            },
            "nps": {
                "score": nps(self.nps_counts),
                "responses": self.nps_counts["nps_responses"],
                "promoters": self.nps_counts["nps_promoters"],
                "detractors": self.nps_counts["nps_detractors"],
            },
            "issues": [{"category": name, "count": count} for name, count in issues],
            "needs": _top(self.needs, "text"),
            "competitors": _top(self.competitors, "name"),
            "suggestions": _top(self.suggestions, "text"),
        }


def _add(summary: Summary, kind: str, counts: Mapping[str, int], fields: Mapping) -> None:
    if kind == "visit":
        for level in LEVELS:
            summary.levels[level] += counts.get(f"rated_{level}", 0)
        for name in ("nps_responses", "nps_promoters", "nps_detractors"):
            summary.nps_counts[name] += counts.get(name, 0)
        if counts.get("visits_completed"):
            for counter, name in (
                (summary.needs, "needs"),
                (summary.suggestions, "service_feedback"),
            ):
                text = folded(fields.get(name))
                if text is not None:
                    counter[text] += 1
            summary.competitors.update(competitors_named(fields.get("competitor_info")))
    elif kind == "purchase":
        customer = _text(fields.get("customer_id"))
        if customer is not None:
            summary.purchases[customer] += 1
    elif kind == "issue":
        summary.issues[_text(fields.get("category"))] += 1


def visit_summary(facts: Iterable[Fact], timezone: str, period: Period) -> dict[str, Any]:
    """The summary of ``period`` for the tenant, and ``by_region`` (the region of each fact's
    event data; null when it had none), regions in order."""
    total, regions = Summary(), {}
    for kind, state in facts:
        part = contribution(kind, state, timezone) if kind in SUMMARY_KINDS else None
        if part is None or not _in(part.day, period):
            continue
        fields = state.get("fields") or {}
        _add(total, kind, part.counts, fields)
        _add(regions.setdefault(part.region, Summary()), kind, part.counts, fields)
    by_region = [
        {"region": region or None, **regions[region].to_json()}
        for region in sorted(regions, key=lambda r: (r == "", r))
    ]
    return {**total.to_json(), "by_region": by_region}
