"""Contact before a visit is done (DOMAIN.md §6): an email visit tracks whether and when
the customer replied; an on-site visit is booked (an appointment time) before it is done.

Standard library only; a step not allowed raises :class:`~.domain.IllegalTransition`
(HTTP 409).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .domain import IllegalTransition

# How far ahead of the caller's clock a reported instant may be (clocks drift).
CLOCK_SLACK = timedelta(minutes=5)


def check_reply(method: str, status: str, replied_at: datetime | None) -> None:
    """Only an email visit records a reply, once, and not after it was cancelled."""
    if method != "email":
        raise IllegalTransition(f"only email visits record a reply; this one is {method}")
    if status == "cancelled":
        raise IllegalTransition("cannot record a reply on a cancelled visit")
    if replied_at is not None:
        raise IllegalTransition("the customer's reply has been recorded already")


def check_booking(method: str, status: str) -> None:
    """Only a planned on-site visit is booked (again: the latest appointment wins)."""
    if method != "on_site":
        raise IllegalTransition(f"only on-site visits are booked; this one is {method}")
    if status != "planned":
        raise IllegalTransition(f"cannot book a {status} visit")


def check_completion(method: str, appointment_at: datetime | None, booking_required: bool) -> None:
    """An on-site visit is done only after it was booked, where the tenant requires it
    (``on_site_booking_required``; off by default, as v1 clients complete them directly)."""
    if booking_required and method == "on_site" and appointment_at is None:
        raise IllegalTransition("book the on-site visit first (POST /visits/{id}/book)")


def in_future(at: datetime, now: datetime) -> bool:
    """Whether ``at`` lies ahead of ``now`` by more than the clocks' slack."""
    return at > now + CLOCK_SLACK


def booked(appointment_at: datetime | None) -> bool:
    """Whether the visit had an appointment booked."""
    return appointment_at is not None
