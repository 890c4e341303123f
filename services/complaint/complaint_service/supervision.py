"""Supervision rules: which complaints are reported upward, why, and what the watchers see.

DOMAIN.md §6 "Major complaints": a complaint that is major, or that touches several
departments (its handling department and the assisting ones named at intake), is reported
upward at once to the tenant's supervision group (the ``supervisors`` setting of the
complaint policy) and stays on the group's watch list until it is closed; reopening puts it
back. Pure rules: no Flask, SQLAlchemy or kombu.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .domain import LIMITS, Clock

MAJOR = "major"
SEVERAL_DEPARTMENTS = "several_departments"
REASONS = (MAJOR, SEVERAL_DEPARTMENTS)
WATCHED_UNTIL = "closed"  # the status that takes a complaint off the watch list


def departments_touched(lead: str, assisting: Iterable[str] = ()) -> tuple[str, ...]:
    """The handling department first, then each assisting one once (the lead not again)."""
    return (lead, *dict.fromkeys(d for d in assisting if d != lead))


def upward_reason(
    severity: str, departments: Iterable[str], severity_reason: str | None = None
) -> str | None:
    """Why a complaint is reported upward at intake: ``major`` (its severity; it wins when
    both apply), ``several_departments`` (more than one distinct department, also when that
    alone made it major: ``severity_reason`` several_departments), else None."""
    if severity == "major" and severity_reason != SEVERAL_DEPARTMENTS:
        return MAJOR
    if len(set(departments)) > 1:
        return SEVERAL_DEPARTMENTS
    return MAJOR if severity == "major" else None


def watched(reason: str | None, status: str) -> bool:
    """On the watch list: reported upward and not closed (a reopened one is back on it)."""
    return reason is not None and status != WATCHED_UNTIL


def next_deadline(clock: Clock) -> tuple[str, datetime] | None:
    """The limit not yet met that falls due first, with its deadline (None when every limit
    of the round is met). While paused, the deadline shown is the one before the pause."""
    pending = [(clock.deadlines.of(limit), limit) for limit in clock.unmet()]
    if not pending:
        return None
    at, limit = min(pending, key=lambda item: (item[0], LIMITS.index(item[1])))
    return limit, at
