"""Follow-up visit rules: due dates, assignment, state machines, audits (DOMAIN.md §2).

Standard library only (no Flask, SQLAlchemy or kombu): the HTTP layer, the event handlers
and the overdue sweep all call the same code. Every number a policy leaves open is a
per-tenant setting in :class:`VisitPolicy` (settings section ``visits``), with DOMAIN.md's
default; working days come from the tenant's :class:`~revisit_common.calendar.WorkCalendar`.

Due dates (:func:`due_date`), from the *base date*: the tenant-local date of what triggered
the visit (purchase, repair closed, grading, complaint resolved, project or event, care day):

* ``new_customer``: base + ``new_customer_days`` (30) calendar days, or working days when
  ``new_customer_unit`` is ``working_days`` (DOMAIN.md §6);
* ``repair``: base + ``repair_days`` (14) calendar days;
* ``periodic``: base + 3 / 6 / 12 months for grade A / B / C (``periodic_months_*``);
* ``key_account``: base + each offset of ``key_account_offsets`` ("2d", "7d", "1m", "3m",
  "6m": days or calendar months, see :mod:`.cadence`) — one visit per offset. A tenant's
  older ``key_account_offsets_days`` (whole days), when set, still wins;
* ``post_project`` / ``post_complaint`` / ``post_event``: the 5th / 3rd / 5th working day
  after the base (the base day itself never counts);
* ``care``: the base date itself (the holiday or birthday; see :mod:`.care_rules`).

A problem found on a visit to a key account (grade A) gets an on-site response by the next
working day (:func:`key_account_issue_due`).

A calendar-day due date (new_customer, repair, periodic, key_account) that falls on a day
off moves to the next working day while ``due_on_working_day`` is on (the default).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from revisit_common.calendar import WorkCalendar
from revisit_common.checks import check_choice, check_date
from revisit_common.policy import Policy, PolicyError, check_bounds, setting
from revisit_common.satisfaction import SATISFACTION_LEVELS

from .cadence import add_months, offset_trigger, parse_offsets, shift
from .care_rules import CareDate, parse_care_dates, parse_choices, parse_grades

__all__ = [
    "CALENDAR_DAY_REASONS",
    "GRADES",
    "ISSUE_CATEGORIES",
    "METHODS",
    "RATING_KEYS",
    "REASONS",
    "REVIEWS",
    "SATISFACTION_LEVELS",
    "SIZE_TIERS",
    "VISIT_STATUSES",
    "WORKING_DAY_REASONS",
    "NEW_CUSTOMER_UNITS",
    "IllegalTransition",
    "PolicyError",
    "Review",
    "VisitPolicy",
    "add_months",
    "audit_sample",
    "check_auditable",
    "choose_assignee",
    "due_date",
    "is_overdue",
    "key_account_issue_due",
    "key_account_schedule",
    "offset_trigger",
    "on_time",
    "parse_size_tiers",
    "periodic_due",
    "review_sample",
    "sample_size",
    "visit_transition",
    "within_deadline",
]

REASONS = (
    "new_customer",
    "repair",
    "periodic",
    "key_account",
    "post_project",
    "post_complaint",
    "post_event",
    "care",
    "risk_watch",
)
CALENDAR_DAY_REASONS = ("new_customer", "repair", "periodic", "key_account", "risk_watch")
WORKING_DAY_REASONS = ("post_project", "post_complaint", "post_event")
METHODS = ("phone", "email", "on_site", "online_survey")
GRADES = ("A", "B", "C")
SIZE_TIERS = ("small", "medium", "large")  # the customer service's size tiers
KEY_ACCOUNT_GRADE = "A"
# Why a visit is up for review: every key account's (DOMAIN.md §6) or the random share's.
REVIEWS = ("key_account", "sample")
VISIT_STATUSES = ("planned", "completed", "cancelled")
WATCHED_RISK_LEVELS = ("medium", "high")
NEW_CUSTOMER_UNITS = ("calendar_days", "working_days")
# DOMAIN.md §2 / §6: 2 days, 1 week, 1 month, 3 months, 6 months after delivery.
KEY_ACCOUNT_CADENCE = ("2d", "7d", "1m", "3m", "6m")
ISSUE_CATEGORIES = ("product_quality", "service_quality", "technical", "price", "other")
# Service quality ratings of a completed visit, each 1..5 (DOMAIN.md §2).
RATING_KEYS = (
    "sales_attitude",
    "sales_expertise",
    "sales_response",
    "aftersales_timeliness",
    "aftersales_problem_solving",
    "aftersales_attitude",
)

MAX_DAYS = 3650  # ten years: any longer "within N days" is a typo
MAX_REGIONS = 500
MAX_AGENTS = 500
MAX_NAME = 100


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class VisitPolicy(Policy):
    """The per-tenant numbers of DOMAIN.md §2, with its defaults (settings section ``visits``).

    Values are checked on construction (so also by :func:`dataclasses.replace`); a bad one
    raises :class:`PolicyError` (a ``ValueError``). The JSON name of each setting is its
    field name.
    """

    policy_name = "visit"

    # Calendar-day due dates ("within 30 days of purchase", "within 14 days").
    new_customer_days: int = setting(30, "int", minimum=0, maximum=MAX_DAYS)
    repair_days: int = setting(14, "int", minimum=0, maximum=MAX_DAYS)
    # Periodic visits of existing customers, every N months by grade.
    periodic_months_a: int = setting(3, "int", minimum=1, maximum=120)
    periodic_months_b: int = setting(6, "int", minimum=1, maximum=120)
    periodic_months_c: int = setting(12, "int", minimum=1, maximum=120)
    # "within [X] days" of the first purchase counts calendar days or working days.
    new_customer_unit: str = setting("calendar_days", "unit")
    # Key accounts: one visit this long after each purchase (delivery) of an A customer:
    # "<n>d" days or "<n>m" calendar months (whole numbers read as days).
    key_account_offsets: tuple = setting(KEY_ACCOUNT_CADENCE, "cadence")
    # The older name, in whole days: when a tenant has set it (not null), it wins.
    key_account_offsets_days: tuple | None = setting(None, "offsets")
    # Working-day due dates ("within 5 working days").
    post_project_working_days: int = setting(5, "int", minimum=0, maximum=365)
    post_complaint_working_days: int = setting(3, "int", minimum=0, maximum=365)
    post_event_working_days: int = setting(5, "int", minimum=0, maximum=365)
    # A calendar-day due date on a day off moves to the next working day.
    due_on_working_day: bool = setting(True, "bool")
    # Methods of visits planned from events (key accounts are visited on site).
    default_method: str = setting("phone", "method")
    key_account_method: str = setting("on_site", "method")
    # Large customers are visited on site too (DOMAIN.md §2/§6): the size tiers whose
    # visits default to ``key_account_method``.
    on_site_size_tiers: tuple = setting(("large",), "size_tiers")
    # On-site visits are booked first, then done (DOMAIN.md §6): completing an unbooked one
    # is refused when this is on. Off by default: v1 clients complete them directly.
    on_site_booking_required: bool = setting(False, "bool")
    # Supervisors spot-check this share of completed visits.
    audit_share: float = setting(0.1, "share", above=0, maximum=1)
    # Agents of each region, for round-robin assignment of customers without an owner.
    agents_by_region: dict = setting({}, "agents")
    # Rollout targets (alert thresholds): visit at least this share of repair / new customers.
    rollout_target_repair: float = setting(0.5, "share", minimum=0, maximum=1)
    rollout_target_new_customer: float = setting(0.1, "share", minimum=0, maximum=1)
    # Care visits (DOMAIN.md §6): planned this many days before the date; the tenant's care
    # dates (holidays); which grades get birthday / anniversary care and holiday care.
    care_lead_days: int = setting(7, "int", minimum=0, maximum=366)
    # The watch plan of a customer at medium or high risk (DOMAIN.md §6): its owner follows
    # it up every this many calendar months, until the risk is low again.
    risk_watch_months: int = setting(1, "int", minimum=1, maximum=12)
    care_dates: tuple = setting((), "care_dates")
    birthday_care_grades: tuple = setting(("A", "B"), "grades")
    holiday_care_grades: tuple = setting(("A",), "grades")

    def periodic_months(self, grade: str) -> int:
        """Months between periodic visits of a customer of ``grade``."""
        check_choice("grade", grade, GRADES)
        return {"A": self.periodic_months_a, "B": self.periodic_months_b}.get(
            grade, self.periodic_months_c
        )

    @property
    def key_account_cadence(self) -> tuple[str, ...]:
        """The key-account offsets in force ("2d", "1m", ...): the older day setting when a
        tenant has set it, else ``key_account_offsets``."""
        if self.key_account_offsets_days is not None:
            return tuple(f"{days}d" for days in self.key_account_offsets_days)
        return self.key_account_offsets

    def holiday_grades(self, care_date: CareDate) -> tuple[str, ...]:
        """The grades a care date (holiday) applies to: its own, else the tenant's."""
        return self.holiday_care_grades if care_date.grades is None else care_date.grades

    def check_relations(self, errors: dict[str, list[str]]) -> None:
        both = self.key_account_offsets != KEY_ACCOUNT_CADENCE
        if self.key_account_offsets_days is not None and both:
            errors.setdefault("key_account_offsets_days", []).append(
                "is the older name of key_account_offsets: set it to null to use those"
            )

    def agents_for(self, region: str | None) -> tuple[str, ...]:
        return tuple(self.agents_by_region.get(region or "", ()))

    def method_for(self, reason: str, size_tier: str | None = None) -> str:
        """The default method of a visit: ``key_account_method`` for key-account visits and
        for customers of the ``on_site_size_tiers``, else ``default_method``."""
        if reason == "key_account" or (size_tier and size_tier in self.on_site_size_tiers):
            return self.key_account_method
        return self.default_method

    @staticmethod
    def coerce(value: Any, meta: Mapping[str, Any]) -> Any:
        return _coerce(value, meta)

    @staticmethod
    def json_value(value: Any, meta: Mapping[str, Any]) -> Any:
        if meta["kind"] == "agents":
            return {region: list(agents) for region, agents in value.items()}
        if meta["kind"] == "care_dates":
            return [care_date.to_json() for care_date in value]
        if meta["kind"] in ("offsets", "cadence", "grades", "size_tiers"):
            return None if value is None else list(value)
        return value


def _coerce(value: Any, meta: Mapping[str, Any]) -> Any:
    kind = meta["kind"]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {value!r}")
        return value
    if kind == "method":
        check_choice("method", value, METHODS)
        return value
    if kind == "unit":
        check_choice("unit", value, NEW_CUSTOMER_UNITS)
        return value
    if kind == "offsets":
        return None if value is None else _offsets(value)
    if kind == "cadence":
        return parse_offsets(value)
    if kind == "grades":
        return parse_grades(value)
    if kind == "size_tiers":
        return parse_size_tiers(value)
    if kind == "care_dates":
        return parse_care_dates(value)
    if kind == "agents":
        return _agents(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        number: float | int = value
    else:  # share
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"must be a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number, got {value!r}")
    check_bounds(number, meta, repr(value))
    return number


def parse_size_tiers(value: Any) -> tuple[str, ...]:
    """A list of distinct size tiers (small, medium, large), possibly empty, in that order."""
    return parse_choices(value, SIZE_TIERS, "size tiers")


def _offsets(value: Any) -> tuple[int, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f"must be a list of whole numbers of days, got {value!r}")
    items = list(value)
    if not 1 <= len(items) <= 20:
        raise ValueError("must hold 1 to 20 offsets")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_DAYS:
            raise ValueError(f"offsets must be whole numbers of days 0..{MAX_DAYS}, got {item!r}")
    if len(set(items)) != len(items):
        raise ValueError("offsets must not repeat")
    return tuple(sorted(items))


def _agents(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"must be an object of region -> list of agents, got {value!r}")
    if len(value) > MAX_REGIONS:
        raise ValueError(f"at most {MAX_REGIONS} regions")
    result: dict[str, tuple[str, ...]] = {}
    for region, agents in value.items():
        if not isinstance(region, str) or not 1 <= len(region) <= MAX_NAME:
            raise ValueError(f"regions must be strings of 1..{MAX_NAME} characters: {region!r}")
        if isinstance(agents, str | bytes) or not isinstance(agents, list | tuple):
            raise ValueError(f"agents of {region!r} must be a list of names")
        if len(agents) > MAX_AGENTS:
            raise ValueError(f"at most {MAX_AGENTS} agents per region")
        for agent in agents:
            if not isinstance(agent, str) or not 1 <= len(agent) <= MAX_NAME:
                raise ValueError(f"agent names must be strings of 1..{MAX_NAME} characters")
        if len(set(agents)) != len(agents):
            raise ValueError(f"agents of {region!r} must not repeat")
        result[region] = tuple(agents)
    return dict(sorted(result.items()))


# --------------------------------------------------------------------------- due dates


def _working(day: date, policy: VisitPolicy, calendar: WorkCalendar) -> date:
    if policy.due_on_working_day and not calendar.is_working_day(day):
        return calendar.next_working_day(day)
    return day


def due_date(
    reason: str,
    base: date,
    policy: VisitPolicy,
    calendar: WorkCalendar,
    *,
    grade: str | None = None,
    offset_days: int | None = None,
    offset: str | int | None = None,
) -> date:
    """When a visit for ``reason`` triggered on ``base`` falls due (see the module doc).

    ``periodic`` needs the customer's ``grade``; ``key_account`` takes ``offset`` ("2d",
    "1m"; or ``offset_days``, whole days; default: the first of the tenant's offsets)."""
    check_choice("reason", reason, REASONS)
    check_date("base", base)
    if reason == "new_customer":
        if policy.new_customer_unit == "working_days":
            return calendar.add_working_days(base, policy.new_customer_days)
        return _working(base + timedelta(days=policy.new_customer_days), policy, calendar)
    if reason == "repair":
        return _working(base + timedelta(days=policy.repair_days), policy, calendar)
    if reason == "periodic":
        months = policy.periodic_months(grade or "C")
        return _working(add_months(base, months), policy, calendar)
    if reason == "key_account":
        if offset is None:
            offset = policy.key_account_cadence[0] if offset_days is None else offset_days
        return _working(shift(base, offset), policy, calendar)
    if reason == "care":
        return base
    if reason == "risk_watch":
        return _working(add_months(base, policy.risk_watch_months), policy, calendar)
    days = {
        "post_project": policy.post_project_working_days,
        "post_complaint": policy.post_complaint_working_days,
        "post_event": policy.post_event_working_days,
    }[reason]
    return calendar.add_working_days(base, days)


def key_account_schedule(
    base: date, policy: VisitPolicy, calendar: WorkCalendar
) -> list[tuple[str, date]]:
    """The key-account cadence after a purchase on ``base``: (offset, due date), the offset
    as "<n>d" or "<n>m"."""
    return [
        (offset, due_date("key_account", base, policy, calendar, offset=offset))
        for offset in policy.key_account_cadence
    ]


def key_account_issue_due(
    grade: str | None, raised_on: date, calendar: WorkCalendar, requested: date | None = None
) -> date | None:
    """The due date of an issue raised on ``raised_on`` on a visit to a customer of
    ``grade``: a key account's (grade A) problem gets an on-site response the same or the
    next working day, so it is due by the next working day (or the ``requested`` date when
    that is sooner); other customers' issues keep the ``requested`` date."""
    check_date("raised_on", raised_on)
    if grade != "A":
        return requested
    response = calendar.add_working_days(raised_on, 1)
    return min(requested, response) if requested is not None else response


def periodic_due(
    anchor: date, grade: str, policy: VisitPolicy, calendar: WorkCalendar, today: date
) -> date:
    """The next periodic visit: the grade's cadence after ``anchor`` (the last periodic visit,
    or the grading when there was none), never before ``today`` (a cadence already missed is
    due at once)."""
    check_date("today", today)
    due = due_date("periodic", anchor, policy, calendar, grade=grade)
    return max(due, today)


def watched(risk_level: str | None) -> bool:
    """Whether a customer at ``risk_level`` is on a watch plan: medium risk asks for one,
    and high risk keeps it beside its stricter measures (DOMAIN.md §6)."""
    return risk_level in WATCHED_RISK_LEVELS


# --------------------------------------------------------------------------- assignment


def choose_assignee(
    owner: str | None, agents: Iterable[str], counter: int
) -> tuple[str | None, int]:
    """DOMAIN.md §2 "Assignment": the customer's owner (the one who knows the customer);
    else the next agent of the region in turn (``agents[counter % len]``); else nobody.
    Returns the assignee and the region's new round-robin counter."""
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
        raise ValueError(f"counter must be a whole number >= 0, got {counter!r}")
    if owner:
        return owner, counter
    pool = tuple(agents)
    if not pool:
        return None, counter
    return pool[counter % len(pool)], counter + 1


# --------------------------------------------------------------------------- state machines


class IllegalTransition(ValueError):
    """An action not allowed from the current status (HTTP 409)."""


VISIT_TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "planned": {"complete": "completed", "cancel": "cancelled"},
    "completed": {},
    "cancelled": {},
}


def _transition(machine: Mapping[str, Mapping[str, str]], what: str, status: str, action: str):
    if status not in machine:
        raise ValueError(f"unknown {what} status {status!r}")
    target = machine[status].get(action)
    if target is None:
        raise IllegalTransition(f"cannot {action} a {status} {what}")
    return target


def visit_transition(status: str, action: str) -> str:
    """planned → completed (``complete``) | cancelled (``cancel``); anything else raises
    :class:`IllegalTransition`."""
    return _transition(VISIT_TRANSITIONS, "visit", status, action)


def check_auditable(status: str, already_audited: bool) -> None:
    """Only completed visits are audited, each once."""
    if status != "completed":
        raise IllegalTransition(f"only completed visits are audited; this one is {status}")
    if already_audited:
        raise IllegalTransition("this visit has been audited already")


# --------------------------------------------------------------------------- timeliness


def on_time(completed_at: datetime, due: date, calendar: WorkCalendar) -> bool:
    """Completed on or before the due date, in the tenant's time zone."""
    return calendar.local_date(completed_at) <= due


def is_overdue(status: str, due: date, today: date) -> bool:
    """A planned visit whose due date has passed (tenant-local ``today``) is overdue."""
    return status == "planned" and due < today


def within_deadline(resolved_at: datetime, deadline: date | None, calendar: WorkCalendar):
    """Whether an issue was resolved by its deadline (tenant-local date); ``None`` when it
    had none."""
    if deadline is None:
        return None
    return calendar.local_date(resolved_at) <= deadline


# --------------------------------------------------------------------------- audits


def sample_size(population: int, share: float) -> int:
    """How many of ``population`` records to audit: ``ceil(share * population)`` (computed
    in decimal, so 10% of 30 is 3), at least one when there are any."""
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise ValueError(f"population must be a whole number >= 0, got {population!r}")
    share_d = Decimal(repr(float(share)))
    if not 0 < share_d <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if population == 0:
        return 0
    wanted = int((share_d * population).to_integral_value(rounding=ROUND_CEILING))
    return min(population, max(1, wanted))


@dataclass(frozen=True)
class SampleGroup:
    assignee: str | None
    population: int
    sampled: tuple[str, ...]


def audit_sample(
    candidates: Iterable[tuple[str, str | None]], share: float, rng: random.Random
) -> list[SampleGroup]:
    """A random sample of ``share`` of the candidate visits ``(visit_id, assignee)`` of each
    assignee (at least one per assignee with any). Groups are sorted by assignee (nobody
    last), sampled ids sorted; with a seeded ``rng`` the result is reproducible."""
    groups: dict[str | None, list[str]] = {}
    for visit_id, assignee in candidates:
        groups.setdefault(assignee, []).append(visit_id)
    result = []
    for assignee in sorted(groups, key=lambda a: (a is None, a or "")):
        ids = sorted(groups[assignee])
        picked = rng.sample(ids, sample_size(len(ids), share))
        result.append(SampleGroup(assignee, len(ids), tuple(sorted(picked))))
    return result


@dataclass(frozen=True)
class Review:
    key_accounts: tuple[str, ...]
    groups: list[SampleGroup]


def review_sample(
    candidates: Iterable[tuple[str, str | None, str | None]], share: float, rng: random.Random
) -> Review:
    """What supervisors review of the candidate visits ``(visit_id, assignee, grade)``: every
    key account's (grade A) visit report, sorted (DOMAIN.md §6), and of the others the random
    :func:`audit_sample` of ``share`` per assignee."""
    rows = list(candidates)
    key = tuple(sorted(v for v, _assignee, grade in rows if grade == KEY_ACCOUNT_GRADE))
    others = [(v, assignee) for v, assignee, grade in rows if grade != KEY_ACCOUNT_GRADE]
    return Review(key, audit_sample(others, share, rng))
