"""Offsets of a visit cadence in days or calendar months ("2d", "1m"), and month arithmetic.

The key-account cadence of DOMAIN.md §6 counts "2 days, 1 week, 1 month, 3 months,
6 months" after a purchase: days are plain days, months are calendar months (31 January +
1 month = 28 or 29 February, + 3 months = 30 April). Standard library only.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from revisit_common.checks import check_date

__all__ = ["MAX_OFFSETS", "add_months", "offset_key", "offset_trigger", "parse_offsets", "shift"]

MAX_OFFSET_DAYS = 3650
MAX_OFFSET_MONTHS = 120
MAX_OFFSETS = 20
_OFFSET_RE = re.compile(r"(\d{1,4})([dm])")


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; a day missing in the target month is its last
    (31 January + 1 month = 28 or 29 February)."""
    check_date("day", day)
    if isinstance(months, bool) or not isinstance(months, int):
        raise ValueError(f"months must be a whole number, got {months!r}")
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _parse_one(item: Any) -> str:
    """One offset as its canonical text: a whole number of days (``7``) or ``"<n>d"`` /
    ``"<n>m"``."""
    if isinstance(item, int) and not isinstance(item, bool):
        amount, unit = item, "d"
    elif isinstance(item, str) and (match := _OFFSET_RE.fullmatch(item.strip().lower())):
        amount, unit = int(match[1]), match[2]
    else:
        raise ValueError(f'offsets are whole days or "<n>d" / "<n>m", got {item!r}')
    limit = MAX_OFFSET_DAYS if unit == "d" else MAX_OFFSET_MONTHS
    if not 0 <= amount <= limit:
        raise ValueError(f"offsets in {'days' if unit == 'd' else 'months'} are 0..{limit}")
    return f"{amount}{unit}"


def offset_key(offset: str) -> tuple[float, int]:
    """Sort key: roughly how far away the offset is (a month as 30.44 days), days first."""
    amount, unit = int(offset[:-1]), offset[-1]
    return (amount if unit == "d" else amount * 30.44, 0 if unit == "d" else 1)


def parse_offsets(value: Any) -> tuple[str, ...]:
    """A cadence from JSON: 1..20 distinct offsets, returned canonical and sorted."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f'must be a list of offsets like ["2d", "1m"], got {value!r}')
    items = [_parse_one(item) for item in value]
    if not 1 <= len(items) <= MAX_OFFSETS:
        raise ValueError(f"must hold 1 to {MAX_OFFSETS} offsets")
    if len(set(items)) != len(items):
        raise ValueError("offsets must not repeat")
    return tuple(sorted(items, key=offset_key))


def shift(base: date, offset: str | int) -> date:
    """``base`` moved by one offset (days, or calendar months)."""
    canonical = _parse_one(offset)
    amount, unit = int(canonical[:-1]), canonical[-1]
    return base + timedelta(days=amount) if unit == "d" else add_months(base, amount)


def offset_trigger(offset: str | int) -> str:
    """The offset as written in a visit's trigger: days as a bare number (``"p-1:7"``, as
    before months existed, so replays of older purchases stay idempotent), months with
    their unit (``"p-1:3m"``)."""
    canonical = _parse_one(offset)
    return canonical[:-1] if canonical.endswith("d") else canonical
