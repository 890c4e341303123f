"""The clock of the use cases: :func:`now`, an aware UTC instant, and the :data:`Clock`
type a service function takes so a test can pass a fake one. Standard library only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def now() -> datetime:
    """The current instant, in UTC (the system clock)."""
    return datetime.now(UTC)
