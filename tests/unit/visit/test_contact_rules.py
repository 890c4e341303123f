"""Contact before a visit is done (DOMAIN.md §6), the pure rules: who may record a reply,
who may be booked, and how far ahead a reported instant may be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from visit_service.contact_rules import (
    booked,
    check_booking,
    check_completion,
    check_reply,
    in_future,
)
from visit_service.domain import IllegalTransition

NOW = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", ["planned", "completed"])
def test_an_email_visit_records_one_reply(status):
    check_reply("email", status, None)
    with pytest.raises(IllegalTransition, match="already"):
        check_reply("email", status, NOW)


@pytest.mark.parametrize("method", ["phone", "on_site", "online_survey"])
def test_only_email_visits_record_a_reply(method):
    with pytest.raises(IllegalTransition, match="only email visits"):
        check_reply(method, "planned", None)


def test_no_reply_on_a_cancelled_visit():
    with pytest.raises(IllegalTransition, match="cancelled"):
        check_reply("email", "cancelled", None)


def test_a_planned_on_site_visit_is_booked():
    check_booking("on_site", "planned")


@pytest.mark.parametrize("method", ["phone", "email", "online_survey"])
def test_only_on_site_visits_are_booked(method):
    with pytest.raises(IllegalTransition, match="only on-site visits"):
        check_booking(method, "planned")


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_only_planned_visits_are_booked(status):
    with pytest.raises(IllegalTransition, match=f"cannot book a {status} visit"):
        check_booking("on_site", status)


@pytest.mark.parametrize(
    ("ahead", "future"),
    [
        (timedelta(days=-30), False),
        (timedelta(0), False),
        (timedelta(minutes=5), False),
        (timedelta(minutes=5, seconds=1), True),
    ],
)
def test_in_future_allows_five_minutes_of_clock_drift(ahead, future):
    assert in_future(NOW + ahead, NOW) is future


def test_booked_means_an_appointment_was_set():
    assert booked(None) is False
    assert booked(NOW) is True


def test_completion_needs_a_booking_only_where_required_and_on_site():
    at = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    with pytest.raises(IllegalTransition, match="book the on-site visit first"):
        check_completion("on_site", None, True)
    check_completion("on_site", at, True)
    check_completion("on_site", None, False)
    for method in ("phone", "email", "online_survey"):
        check_completion(method, None, True)
