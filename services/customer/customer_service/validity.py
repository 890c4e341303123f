"""When recorded times make sense (DOMAIN.md §6 "Validation"). Standard library only.

A purchase or a completed project cannot lie in the future (a few minutes of clock skew
aside), and a repair cannot close before it opened. A plain date given for an instant means
the start of that day in the tenant's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far past "now" a recorded instant may lie: the skew between the caller's clock and ours.
CLOCK_SKEW = timedelta(minutes=5)


def in_future(moment: datetime, now: datetime, skew: timedelta = CLOCK_SKEW) -> bool:
    """Whether ``moment`` lies more than ``skew`` after ``now`` (both aware)."""
    _check_aware("moment", moment)
    _check_aware("now", now)
    return moment > now + skew


def closes_before_opening(opened_at: datetime, closed_at: datetime) -> bool:
    """Whether a record closed at ``closed_at`` would have closed before it opened; closing
    at the very instant it opened is allowed."""
    _check_aware("opened_at", opened_at)
    _check_aware("closed_at", closed_at)
    return closed_at < opened_at


def start_of_day(day: date, timezone: str) -> datetime:
    """Midnight at the start of ``day`` in ``timezone`` (an IANA name), as an aware instant."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"day must be a date, got {day!r}")
    return datetime.combine(day, time.min, ZoneInfo(timezone))


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of ``moment`` in ``timezone``."""
    _check_aware("moment", moment)
    return moment.astimezone(ZoneInfo(timezone)).date()


def _check_aware(name: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
