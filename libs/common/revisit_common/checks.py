"""Checks of domain values that raise ``ValueError`` with the value's name (no Flask, no SQL)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def check_date(name: str, value: Any) -> None:
    """``value`` is a date (a datetime is not)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date, got {value!r}")
