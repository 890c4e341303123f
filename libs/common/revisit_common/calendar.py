"""Working-time calendar: working days and working hours of one tenant.

The policies count time limits in working time ("visit within 3 working days", "first
response within 4 working hours"). A :class:`WorkCalendar` answers those questions for one
tenant: which days are working days (weekend, public holidays and the Chinese "make-up"
working days that move days off onto a weekend) and which hours of a working day are working
hours (by default 09:00-12:00 and 13:00-18:00, 8 hours a day).

Conventions
-----------
* Dates are calendar dates in the tenant's time zone; instants are aware ``datetime``
  objects (naive ones are rejected with ``ValueError``) and every instant returned is in UTC.
* Working periods are wall-clock times in the tenant's zone and working time is real elapsed
  time, so on a daylight-saving switch a period that spans the switch is shorter or longer.
  A wall-clock bound means the first instant the clock shows that time or later: a time
  skipped when clocks go forward is read as the instant of the jump, a time repeated when
  clocks go back as its first occurrence. (Business hours rarely cross a switch; China has
  none.)
* "Within N working days" of an event on date D means by the end of the Nth working day
  after D: the day of the event itself never counts, whatever the time of day. N = 0 means
  D itself when D is a working day, otherwise the next working day. Negative N counts
  backwards (the |N|th working day before D).
* Adding working time counts only time inside working periods of working days; an instant
  outside working hours starts counting at the next working period. When the time runs out
  exactly at the end of a period, the result is that period end (18:00 Friday, not 09:00
  Monday). Adding zero returns the instant itself; adding a negative amount counts
  backwards, and a result that runs out exactly at a period start is that period start.
* Long spans loop once per calendar day, never per minute or hour.

The module uses the standard library only, so every service can use it in its domain code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEFAULT_TIMEZONE", "DEFAULT_WEEKEND", "DEFAULT_WORK_PERIODS", "WorkCalendar"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WEEKEND: frozenset[int] = frozenset({5, 6})  # date.weekday(): Monday=0 ... Sunday=6
DEFAULT_WORK_PERIODS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 0), time(18, 0)),
)

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{6}))?)?")
_DICT_KEYS = frozenset({"timezone", "weekend", "holidays", "makeup_workdays", "work_periods"})

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and working hours of one tenant.

    ``weekend`` holds ``date.weekday()`` numbers (Monday=0 ... Sunday=6). ``holidays`` are
    days off (a holiday on a weekend day is allowed and changes nothing). ``makeup_workdays``
    are weekend days that are working days. ``work_periods`` are the sorted, non-overlapping
    (start, end) wall-clock times of a working day; a period ends at the latest at 23:59:59.

    Collections may be given as any iterable; they are stored as frozensets and tuples so the
    calendar is immutable and hashable.
    """

    timezone: str = DEFAULT_TIMEZONE
    weekend: frozenset[int] = DEFAULT_WEEKEND
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    work_periods: tuple[tuple[time, time], ...] = DEFAULT_WORK_PERIODS
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_zone", _load_zone(self.timezone))
        set_(self, "weekend", _weekend(self.weekend))
        set_(self, "holidays", _dates(self.holidays, "holidays"))
        set_(self, "makeup_workdays", _dates(self.makeup_workdays, "makeup_workdays"))
        set_(self, "work_periods", _periods(self.work_periods))
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(
                "dates both holiday and make-up workday: " + ", ".join(map(str, sorted(both)))
            )
        not_weekend = sorted(d for d in self.makeup_workdays if d.weekday() not in self.weekend)
        if not_weekend:
            raise ValueError(
                "make-up workdays must fall on a weekend day: " + ", ".join(map(str, not_weekend))
            )

    # -- storage -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> WorkCalendar:
        """Build a calendar from tenant settings; missing keys keep their default.

        Format (every key optional)::

            {"timezone": "Asia/Shanghai",
             "weekend": [5, 6],
             "holidays": ["2026-10-01", "2026-10-02"],
             "makeup_workdays": ["2026-10-10"],
             "work_periods": [["09:00", "12:00"], ["13:00", "18:00"]]}

        Unknown keys and malformed values raise ``ValueError``.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"calendar settings must be a mapping, not {type(data).__name__}")
        unknown = set(data) - _DICT_KEYS
        if unknown:
            raise ValueError(f"unknown calendar settings: {', '.join(sorted(map(str, unknown)))}")
        kwargs: dict[str, Any] = {}
        if "timezone" in data:
            kwargs["timezone"] = data["timezone"]
        if "weekend" in data:
            kwargs["weekend"] = _list(data["weekend"], "weekend")
        for key in ("holidays", "makeup_workdays"):
            if key in data:
                kwargs[key] = [_parse_date(v, key) for v in _list(data[key], key)]
        if "work_periods" in data:
            periods = []
            for pair in _list(data["work_periods"], "work_periods"):
                if isinstance(pair, str) or not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValueError(f"work period must be a [start, end] pair: {pair!r}")
                periods.append((_parse_time(pair[0]), _parse_time(pair[1])))
            kwargs["work_periods"] = periods
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-friendly form read by :meth:`from_dict` (sorted, so it is stable)."""
        return {
            "timezone": self.timezone,
            "weekend": sorted(self.weekend),
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "makeup_workdays": [d.isoformat() for d in sorted(self.makeup_workdays)],
            "work_periods": [[_format_time(s), _format_time(e)] for s, e in self.work_periods],
        }

    # -- working days --------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day (make-up days are, holidays are not)."""
        _check_date(day)
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        _check_date(day)
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        _check_date(day)
        day -= _ONE_DAY
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The Nth working day after ``start`` ("within N working days" of an event on start).

        ``start`` itself never counts: an event on a Friday with n=1 is due on Monday.
        n=0 returns ``start`` if it is a working day, else the next working day. A negative
        n returns the |n|th working day before ``start``.
        """
        _check_date(start)
        n = _check_int(n, "n")
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        step = self.next_working_day if n > 0 else self.previous_working_day
        day = start
        for _ in range(abs(n)):
            day = step(day)
        return day

    def add_working_days_at(self, instant: datetime, n: int) -> datetime:
        """Deadline for "within N working days" of ``instant``, in UTC.

        The end of the last working period of ``add_working_days(local date of instant, n)``;
        the time of day of ``instant`` does not matter.
        """
        day = self.add_working_days(self.local_date(instant), n)
        return self._to_utc(day, self.work_periods[-1][1])

    # -- working hours -------------------------------------------------------------------

    def local_date(self, instant: datetime) -> date:
        """The tenant's calendar date at ``instant``."""
        return _check_aware(instant).astimezone(self._zone).date()

    def working_intervals(self, day: date) -> list[Interval]:
        """The working periods of ``day`` as sorted, disjoint UTC (start, end) pairs.

        Empty on days off. A period made empty by a daylight-saving jump is left out.
        """
        if not self.is_working_day(day):
            return []
        intervals: list[Interval] = []
        for start, end in self.work_periods:
            s, e = self._to_utc(day, start), self._to_utc(day, end)
            if e > s:
                intervals.append((s, e))
        return intervals

    def is_working_time(self, instant: datetime) -> bool:
        """True when ``instant`` is inside a working period (start included, end excluded)."""
        t = _check_aware(instant).astimezone(UTC)
        day = self.local_date(t)
        return any(
            s <= t < e
            for d in (day - _ONE_DAY, day, day + _ONE_DAY)
            for s, e in self.working_intervals(d)
        )

    def add_working_hours(self, instant: datetime, hours: float | timedelta) -> datetime:
        """``instant`` plus ``hours`` of working time (a number of hours or a timedelta), UTC."""
        if isinstance(hours, timedelta):
            return self.add_working_time(instant, hours)
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise ValueError(f"hours must be a number or a timedelta, not {hours!r}")
        if not math.isfinite(hours):
            raise ValueError(f"hours must be finite, not {hours!r}")
        return self.add_working_time(instant, timedelta(hours=hours))

    def add_working_time(self, instant: datetime, delta: timedelta) -> datetime:
        """``instant`` plus ``delta`` of working time, in UTC (see the module conventions)."""
        t = _check_aware(instant).astimezone(UTC)
        if not isinstance(delta, timedelta):
            raise ValueError(f"delta must be a timedelta, not {delta!r}")
        if delta > _ZERO:
            return self._forward(t, delta)
        if delta < _ZERO:
            return self._backward(t, -delta)
        return t

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time elapsed from ``a`` to ``b`` (negative when ``b`` is before ``a``).

        The inverse of :meth:`add_working_time`: ``working_time_between(t,
        add_working_time(t, d)) == d``. Used to pause a deadline clock: the working time spent
        waiting is added back to the deadline.
        """
        a = _check_aware(a).astimezone(UTC)
        b = _check_aware(b).astimezone(UTC)
        if b < a:
            return -self.working_time_between(b, a)
        total = _ZERO
        for s, e in self._intervals_from(a, forward=True):
            if s >= b:
                return total
            overlap = min(e, b) - max(s, a)
            if overlap > _ZERO:
                total += overlap
        raise AssertionError("unreachable")  # pragma: no cover

    # -- internals -----------------------------------------------------------------------

    def _to_utc(self, day: date, wall: time) -> datetime:
        """The first instant at which the tenant's clock shows ``wall`` on ``day`` or later.

        For an ordinary wall time that is the time itself, for a repeated one (clocks going
        back) its first occurrence (``fold=0``), and for a skipped one (clocks going forward)
        the instant of the jump. The mapping never decreases, so sorted periods stay sorted.
        """
        naive = datetime.combine(day, wall)
        first = naive.replace(tzinfo=self._zone).astimezone(UTC)
        if first.astimezone(self._zone).replace(tzinfo=None) == naive:
            return first
        # Skipped wall time: fold=0 reads it with the offset before the jump (too late) and
        # fold=1 with the offset after it (too early); the jump lies in between.
        lo = naive.replace(tzinfo=self._zone, fold=1).astimezone(UTC)
        hi = first
        before = lo.astimezone(self._zone).utcoffset()
        while hi - lo > _MICROSECOND:
            mid = lo + (hi - lo) // 2
            if mid.astimezone(self._zone).utcoffset() == before:
                lo = mid
            else:
                hi = mid
        return hi

    def _intervals_from(self, t: datetime, *, forward: bool) -> Iterator[Interval]:
        """Working intervals from around ``t`` onwards (or backwards), day by day.

        Starts one day before (after) ``t``'s local date, so no interval touching ``t`` is
        missed whatever the zone's offset changes; callers skip what lies beyond ``t``.
        """
        step = _ONE_DAY if forward else -_ONE_DAY
        day = self.local_date(t) - step
        while True:
            intervals = self.working_intervals(day)
            yield from intervals if forward else reversed(intervals)
            day += step

    def _forward(self, t: datetime, remaining: timedelta) -> datetime:
        for s, e in self._intervals_from(t, forward=True):
            if e <= t:
                continue
            start = max(s, t)
            available = e - start
            if remaining <= available:
                return start + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def _backward(self, t: datetime, remaining: timedelta) -> datetime:
        for s, e in self._intervals_from(t, forward=False):
            if s >= t:
                continue
            end = min(e, t)
            available = end - s
            if remaining <= available:
                return end - remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover


# -- validation and parsing helpers --------------------------------------------------------


def _load_zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"timezone must be an IANA zone name, not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown timezone: {name!r}") from exc


def _weekend(days: object) -> frozenset[int]:
    if isinstance(days, str | bytes) or not isinstance(days, Iterable):
        raise ValueError(f"weekend must be a collection of weekday numbers, not {days!r}")
    items = list(days)
    for d in items:
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6:
            raise ValueError(f"weekend days are weekday numbers 0 (Monday) to 6 (Sunday): {d!r}")
    result = frozenset(items)
    if len(result) == 7:
        raise ValueError("weekend cannot be the whole week")
    return result


def _dates(values: object, name: str) -> frozenset[date]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a collection of dates, not {values!r}")
    items = list(values)
    for d in items:
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ValueError(f"{name} must hold dates, not {d!r}")
    return frozenset(items)


def _periods(values: object) -> tuple[tuple[time, time], ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"work_periods must be a sequence of (start, end) pairs: {values!r}")
    periods: list[tuple[time, time]] = []
    for pair in values:
        if isinstance(pair, str | bytes) or not isinstance(pair, Iterable):
            raise ValueError(f"work period must be a (start, end) pair: {pair!r}")
        items = tuple(pair)
        if len(items) != 2:
            raise ValueError(f"work period must be a (start, end) pair: {pair!r}")
        start, end = items
        for t in (start, end):
            if not isinstance(t, time) or t.tzinfo is not None:
                raise ValueError(f"work period bounds must be naive times: {t!r}")
        if end <= start:
            raise ValueError(f"work period must end after it starts: {start}-{end}")
        if periods and start < periods[-1][1]:
            raise ValueError(
                f"work periods must be sorted and must not overlap: "
                f"{periods[-1][0]}-{periods[-1][1]} then {start}-{end}"
            )
        periods.append((start, end))
    if not periods:
        raise ValueError("work_periods must not be empty")
    return tuple(periods)


def _list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be a list, not {value!r}")
    return list(value)


def _parse_date(value: object, name: str) -> date:
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError(f"{name} entries must be 'YYYY-MM-DD' strings, not {value!r}")
    return date.fromisoformat(value)  # raises ValueError for e.g. 2026-02-30


def _parse_time(value: object) -> time:
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"work period times must be 'HH:MM[:SS]' strings, not {value!r}")
    hour, minute, second, micro = match.groups()
    return time(int(hour), int(minute), int(second or 0), int(micro or 0))


def _format_time(t: time) -> str:
    if t.microsecond:
        return t.isoformat()
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _check_date(day: object) -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, not {day!r}")


def _check_int(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be an int, not {n!r}")
    return n


def _check_aware(instant: object) -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, not {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed (attach a time zone): {instant!r}")
    return instant
