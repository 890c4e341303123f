"""Which stored purchase sums make the two 12-month windows of the classification.

The classification (DOMAIN.md §1, §6 "trailing 12 months") reads, on the tenant's ``today``:

* the *last 12 months*: purchases at or after ``year_ago``, the UTC midnight that begins the
  day ``today - 365 days`` (their amount and their count);
* the *previous 12 months*: purchases from ``two_years_ago`` (``today - 730 days``, UTC
  midnight) up to ``year_ago`` (their amount).

So that this costs the same for a customer with ten purchases as for one with ten thousand,
each purchase is also added to two running sums of its customer (amount in cents and count):
the sum of its UTC **day** and the sum of its UTC **month** (:func:`sums_for`). A window is
then read from at most 31 day sums at each of its two ends and whole months between
(:func:`selection`): never more than about 90 small rows, however many purchases there are.

Standard library only: the service layer turns a :class:`Selection` into one SQL query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

DAY, MONTH = "day", "month"
YEAR_DAYS = 365


def day_of(purchased_at: datetime) -> date:
    """The UTC calendar day of an (aware) purchase time: the windows start at UTC midnight."""
    if purchased_at.tzinfo is None:
        raise ValueError(f"purchased_at must be aware, got {purchased_at!r}")
    return purchased_at.astimezone(UTC).date()


def month_of(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    first = month_of(day)
    return date(first.year + 1, 1, 1) if first.month == 12 else first.replace(month=first.month + 1)


def first_whole_month(day: date) -> date:
    """The first month that lies wholly at or after ``day``: its own when ``day`` is a 1st."""
    return day if day.day == 1 else next_month(day)


def cents(amount: Decimal) -> int:
    """A money amount (two decimals at most, as stored) in whole cents."""
    value = Decimal(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"amount must have at most two decimals, got {amount!r}")
    return int(value)


def amount_of(total_cents: int) -> Decimal:
    """Whole cents back as a money amount with two decimals."""
    return (Decimal(int(total_cents)) / 100).quantize(Decimal("0.01"))


def sums_for(purchased_at: datetime) -> tuple[tuple[str, date], tuple[str, date]]:
    """The two running sums a purchase adds to: ``(span, start)`` of its day and its month."""
    day = day_of(purchased_at)
    return (DAY, day), (MONTH, month_of(day))


@dataclass(frozen=True)
class Selection:
    """The stored sums that make both windows, as ranges of their start days
    (``[low, high)``, ``high`` None: no end). ``year_ago`` splits them: a selected sum that
    starts on or after it belongs to the last 12 months, one before it to the previous 12."""

    year_ago: date
    day_ranges: tuple[tuple[date, date], ...]
    month_ranges: tuple[tuple[date, date | None], ...]

    def selects(self, span: str, start: date) -> bool:
        ranges = self.day_ranges if span == DAY else self.month_ranges
        return any(low <= start and (high is None or start < high) for low, high in ranges)


def selection(today: date) -> Selection:
    """The sums to read on ``today`` for the last and the previous 12 months.

    Previous: the days from ``two_years_ago`` to the end of its month, the whole months after
    it up to ``year_ago``'s month, and the days of ``year_ago``'s month before it. Last: the
    days of ``year_ago``'s month from it on, and every whole month after (purchases may lie
    a few minutes in the future, so the last window has no end). A window edge on a 1st
    needs no day sums at all."""
    year_ago = today - timedelta(days=YEAR_DAYS)
    two_years_ago = today - timedelta(days=2 * YEAR_DAYS)
    prev_months = first_whole_month(two_years_ago)
    last_months = first_whole_month(year_ago)
    # an edge on a 1st leaves its day range empty ([x, x)): always the same two ranges
    day_ranges = ((two_years_ago, prev_months), (month_of(year_ago), last_months))
    month_ranges = ((prev_months, month_of(year_ago)), (last_months, None))
    return Selection(year_ago, day_ranges, month_ranges)


def window_totals(
    sums: dict[tuple[str, date], tuple[int, int]], today: date
) -> tuple[int, int, int]:
    """``(last_12m_cents, last_12m_count, prev_12m_cents)`` from running sums keyed by
    ``(span, start)`` with ``(cents, count)``: what the service's query computes, in Python
    (for tests and checks)."""
    chosen = selection(today)
    last = count = prev = 0
    for (span, start), (amount, number) in sums.items():
        if not chosen.selects(span, start):
            continue
        if start >= chosen.year_ago:
            last += amount
            count += number
        else:
            prev += amount
    return last, count, prev
