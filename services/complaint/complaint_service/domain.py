"""Complaint rules: the tenant's time-limit policy, numbering, the lifecycle, time limits.

The rules come from DOMAIN.md §3 "Complaints"; every number the policy leaves open is a
per-tenant setting in :class:`ComplaintPolicy` (the settings section ``complaints``). The
module uses the standard library and the working-time calendar only (no Flask, SQLAlchemy or
kombu), so routes, event handlers and the escalation sweep all call the same code.

* **Numbers** are ``CMP-YYYYMM-NNNNN``: the year and month the complaint was received, in
  the tenant's time zone, and a serial per tenant per month from 1 (five digits, more once a
  month passes 99,999). Allocating the serial is the service's job (one atomic statement).
* **Lifecycle** (:data:`TRANSITIONS`): received -acknowledge-> acknowledged -investigate->
  investigating -propose-> solution_proposed -implement-> implementing -resolve-> resolved
  -close-> closed. ``propose`` again from solution_proposed or implementing records a
  revised solution. ``reopen`` from resolved or closed gives ``reopened``, which goes on
  with investigate (or propose, when the cause is already known). ``resolve`` is allowed
  only from implementing: every complaint goes through a proposed and implemented solution,
  as the policy's lifecycle has it. ``wait_customer`` from any running status (received to
  implementing, and reopened) pauses the time-limit clock; ``resume`` returns to the status
  it paused from. Anything else is an :class:`IllegalTransition` (HTTP 409).
* **Time limits** in working time of the tenant's calendar, counted from the received time:
  general — resolve within 5 working days; major — first response within 4 working hours,
  plan within 2 working days, resolve within 10 working days. ``acknowledge`` meets the
  first response, the first ``propose`` the plan, ``resolve`` the resolution. A reopened
  complaint gets a fresh resolve limit counted from its reopening (each round is handled
  again "until satisfied"); its first-response and plan limits were met in the first round.
* **Pauses**: while the company waits on the customer the clock stops; on ``resume`` every
  limit not yet met moves later by the working time the pause lasted.
* **Escalation**: a limit is missed when it is met after its deadline, or is still unmet
  after it while the clock runs. Each missed limit escalates once (per round for resolve).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from revisit_common.calendar import WorkCalendar
from revisit_common.policy import Policy, check_bounds, setting
from revisit_common.policy import PolicyError as PolicyError  # raised by ComplaintPolicy

CHANNELS = ("phone", "email", "online", "in_person")
SEVERITIES = ("general", "major")
# Handling departments named by the policy; any lower-case department name is accepted.
KNOWN_DEPARTMENTS = ("sales", "product", "technical", "logistics", "customer_service")
DEPARTMENT_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"  # travels in routing keys: no dots
MAX_ASSISTING = 10  # assisting departments named at intake
MAX_SUPERVISORS = 50
MAX_PERSON = 200  # characters of a staff id or email
MAX_CATEGORY = 100  # characters of a category (as the intake takes it)
MAX_NAMES = 100  # entries of a list or mapping setting of names

RUNNING = (
    "received",
    "acknowledged",
    "investigating",
    "solution_proposed",
    "implementing",
    "reopened",
)
WAITING = "waiting_customer"
FINISHED = ("resolved", "closed")
STATUSES = (*RUNNING, WAITING, *FINISHED)

# status -> {action: new status}; wait_customer / resume are added by next_status.
TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "received": {"acknowledge": "acknowledged"},
    "acknowledged": {"investigate": "investigating"},
    "investigating": {"propose": "solution_proposed"},
    "solution_proposed": {"propose": "solution_proposed", "implement": "implementing"},
    "implementing": {"resolve": "resolved", "propose": "solution_proposed"},
    "resolved": {"close": "closed", "reopen": "reopened"},
    "closed": {"reopen": "reopened"},
    "reopened": {"investigate": "investigating", "propose": "solution_proposed"},
}
ACTIONS = (
    "acknowledge",
    "investigate",
    "propose",
    "implement",
    "resolve",
    "close",
    "reopen",
    "wait_customer",
    "resume",
)

LIMITS = ("first_response", "plan", "resolve")
MET_BY = {"acknowledge": "first_response", "propose": "plan", "resolve": "resolve"}
SATISFIED_LEVELS = ("very_satisfied", "satisfied")


class IllegalTransition(ValueError):
    def __init__(self, status: str, action: str):
        self.status, self.action = status, action
        allowed = ", ".join(allowed_actions(status)) or "none"
        super().__init__(f"cannot {action} a complaint that is {status} (allowed: {allowed})")


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class ComplaintPolicy(Policy):
    """The per-tenant time limits of DOMAIN.md §3 (settings section ``complaints``).

    Days are whole working days ("within N working days": by the end of the Nth working day
    after the day received, 0 = that day); hours are working hours (a number above 0).
    ``supervisors`` are the staff ids or emails major complaints are reported to
    (supervision.py). Triage at intake (triage.py): ``major_categories``,
    ``major_customer_size_tiers`` and ``major_customer_grades`` raise a general complaint to
    major; ``departments_by_category`` names the handling department when the request does
    not; ``coordinator_department`` coordinates the complaints other departments handle.
    """

    policy_name = "complaint"
    none_is_empty = True

    general_resolve_working_days: int = setting(5, "days", minimum=0, maximum=365)
    major_first_response_working_hours: float = setting(4, "hours", above=0, maximum=2000)
    major_plan_working_days: int = setting(2, "days", minimum=0, maximum=365)
    major_resolve_working_days: int = setting(10, "days", minimum=0, maximum=365)
    # The supervision group (staff ids or emails) major complaints are reported to (§6).
    supervisors: tuple = setting((), "people", max_items=MAX_SUPERVISORS, max_length=MAX_PERSON)
    # Categories that make a complaint major (the category list is open: none by default).
    major_categories: tuple = setting((), "names", max_items=MAX_NAMES, max_length=MAX_CATEGORY)
    # A customer of these size tiers or grades is large: its complaints are major.
    major_customer_size_tiers: tuple = setting(
        ("large",), "names", max_items=MAX_NAMES, max_length=32
    )
    major_customer_grades: tuple = setting(("A",), "names", max_items=MAX_NAMES, max_length=8)
    # category -> handling department, used when the intake names no department.
    departments_by_category: dict = setting({}, "departments", max_items=MAX_NAMES)
    coordinator_department: str = setting("customer_service", "department")

    def check_relations(self, errors: dict[str, list[str]]) -> None:
        if self.major_plan_working_days > self.major_resolve_working_days:
            errors["major_plan_working_days"] = [
                f"must not exceed major_resolve_working_days ({self.major_resolve_working_days})"
            ]

    @staticmethod
    def coerce(value: Any, meta: Mapping[str, Any]) -> Any:
        if meta["kind"] in ("people", "names"):
            return _people(value, meta)
        if meta["kind"] == "department":
            return _department(value)
        if meta["kind"] == "departments":
            return _departments(value, meta)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, got {value!r}")
        if meta["kind"] == "days":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"must be a whole number of days, got {value!r}")
                value = int(value)
            check_bounds(value, meta, value, zero_minimum_as_negative=True)
        else:
            if not math.isfinite(value):
                raise ValueError(f"must be greater than 0, got {value!r}")
            check_bounds(value, meta, repr(value))
        return value

    @staticmethod
    def json_value(value: Any, meta: Mapping[str, Any]) -> Any:
        if meta["kind"] in ("people", "names"):
            return list(value)
        if meta["kind"] == "department":
            return value
        if meta["kind"] == "departments":
            return dict(value)
        return int(value) if float(value).is_integer() else float(value)

    def resolve_days(self, severity: str) -> int:
        if severity == "major":
            return self.major_resolve_working_days
        return self.general_resolve_working_days


def _people(value: Any, meta: Mapping[str, Any]) -> tuple[str, ...]:
    """A list of staff ids or emails (or names): each 1..max_length characters, not blank,
    no repeats."""
    what = "staff ids or emails" if meta["kind"] == "people" else "names"
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise ValueError(f"must be a list of {what}, got {value!r}")
    if len(value) > meta["max_items"]:
        raise ValueError(f"at most {meta['max_items']} entries")
    for person in value:
        if not isinstance(person, str) or not 1 <= len(person) <= meta["max_length"]:
            raise ValueError(f"entries must be strings of 1..{meta['max_length']} characters")
        if not person.strip():
            raise ValueError("entries must not be blank")
    if len(set(value)) != len(value):
        raise ValueError("entries must not repeat")
    return tuple(value)


def _department(value: Any) -> str:
    """A department name (lower case, as the intake takes it)."""
    if not isinstance(value, str) or not re.fullmatch(DEPARTMENT_PATTERN, value):
        raise ValueError(f"must be a department name matching {DEPARTMENT_PATTERN}, got {value!r}")
    return value


def _departments(value: Any, meta: Mapping[str, Any]) -> dict[str, str]:
    """A mapping of category (1..100 characters, not blank) to department."""
    if not isinstance(value, Mapping):
        raise ValueError(f"must be an object of category to department, got {value!r}")
    if len(value) > meta["max_items"]:
        raise ValueError(f"at most {meta['max_items']} entries")
    for category in value:
        if not isinstance(category, str) or not category.strip() or len(category) > MAX_CATEGORY:
            raise ValueError(f"categories must be strings of 1..{MAX_CATEGORY} characters")
    return {category: _department(department) for category, department in value.items()}


# --------------------------------------------------------------------------- numbering


def period_of(day: date) -> str:
    """The numbering period of a local date: ``YYYYMM``."""
    return f"{day.year:04d}{day.month:02d}"


def format_number(period: str, serial: int) -> str:
    """``CMP-202611-00042``; serials beyond 99,999 keep all their digits."""
    if serial < 1:
        raise ValueError(f"serials start at 1, got {serial}")
    return f"CMP-{period}-{serial:05d}"


# --------------------------------------------------------------------------- lifecycle


def allowed_actions(status: str) -> tuple[str, ...]:
    actions = list(TRANSITIONS.get(status, {}))
    if status in RUNNING:
        actions.append("wait_customer")
    if status == WAITING:
        actions.append("resume")
    return tuple(actions)


def next_status(status: str, action: str, paused_from: str | None = None) -> str:
    """The status ``action`` leads to from ``status``; :class:`IllegalTransition` if none."""
    if action == "wait_customer" and status in RUNNING:
        return WAITING
    if action == "resume" and status == WAITING and paused_from in RUNNING:
        return paused_from
    target = TRANSITIONS.get(status, {}).get(action)
    if target is None:
        raise IllegalTransition(status, action)
    return target


def follow_up_action(satisfaction: str | None) -> str | None:
    """What a post-complaint visit's answer does: ``close``, ``reopen`` or nothing (no
    answer recorded)."""
    if not satisfaction:
        return None
    return "close" if satisfaction in SATISFIED_LEVELS else "reopen"


# --------------------------------------------------------------------------- time limits


@dataclass(frozen=True)
class Deadlines:
    first_response_by: datetime | None = None
    plan_by: datetime | None = None
    resolve_by: datetime | None = None

    def of(self, limit: str) -> datetime | None:
        return getattr(self, f"{limit}_by")

    def to_dict(self) -> dict[str, str]:
        """The limits that apply, as RFC 3339 strings (absent ones left out)."""
        return {
            f"{limit}_by": value.isoformat()
            for limit in LIMITS
            if (value := self.of(limit)) is not None
        }


def initial_deadlines(
    severity: str, received_at: datetime, policy: ComplaintPolicy, calendar: WorkCalendar
) -> Deadlines:
    resolve_by = calendar.add_working_days_at(received_at, policy.resolve_days(severity))
    if severity != "major":
        return Deadlines(resolve_by=resolve_by)
    return Deadlines(
        first_response_by=calendar.add_working_hours(
            received_at, policy.major_first_response_working_hours
        ),
        plan_by=calendar.add_working_days_at(received_at, policy.major_plan_working_days),
        resolve_by=resolve_by,
    )


def reopened_deadlines(
    deadlines: Deadlines,
    severity: str,
    reopened_at: datetime,
    policy: ComplaintPolicy,
    calendar: WorkCalendar,
) -> Deadlines:
    """A reopened complaint: a fresh resolve limit from its reopening, the rest kept."""
    resolve_by = calendar.add_working_days_at(reopened_at, policy.resolve_days(severity))
    return replace(deadlines, resolve_by=resolve_by)


def shift_deadlines(
    deadlines: Deadlines, unmet: Iterable[str], paused: timedelta, calendar: WorkCalendar
) -> Deadlines:
    """Move the limits not yet met later by ``paused`` working time (a pause ended)."""
    changes = {
        f"{limit}_by": calendar.add_working_time(value, paused)
        for limit in unmet
        if (value := deadlines.of(limit)) is not None
    }
    return replace(deadlines, **changes)


@dataclass(frozen=True)
class Clock:
    """The time-limit state of one complaint in its current round.

    ``met`` maps a limit to when it was met (``None``/absent: not yet); ``escalated`` holds
    the limits escalated already; ``paused`` is true while waiting on the customer.
    """

    deadlines: Deadlines
    met: Mapping[str, datetime | None] = field(default_factory=dict)
    escalated: frozenset[str] = frozenset()
    paused: bool = False

    def unmet(self) -> tuple[str, ...]:
        return tuple(
            limit
            for limit in LIMITS
            if self.deadlines.of(limit) is not None and self.met.get(limit) is None
        )

    def missed(self, now: datetime) -> tuple[str, ...]:
        """Limits met after their deadline, or unmet past it while the clock runs."""
        result = []
        for limit in LIMITS:
            deadline = self.deadlines.of(limit)
            if deadline is None:
                continue
            met_at = self.met.get(limit)
            if met_at is not None:
                if met_at > deadline:
                    result.append(limit)
            elif not self.paused and now > deadline:
                result.append(limit)
        return tuple(result)

    def to_escalate(self, now: datetime) -> tuple[str, ...]:
        """The missed limits not escalated yet: each missed limit escalates once."""
        return tuple(limit for limit in self.missed(now) if limit not in self.escalated)

    def overdue(self, now: datetime) -> bool:
        """A limit still unmet is past its deadline while the clock runs."""
        return not self.paused and any(now > self.deadlines.of(limit) for limit in self.unmet())


def within_deadline(deadline: datetime | None, at: datetime) -> bool | None:
    return None if deadline is None else at <= deadline
