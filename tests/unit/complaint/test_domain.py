"""The complaint rules: policy, numbers, the state machine, time limits, pauses, escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaint_service import domain
from complaint_service.domain import (
    Clock,
    ComplaintPolicy,
    Deadlines,
    IllegalTransition,
    PolicyError,
)
from revisit_common.calendar import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
POLICY = ComplaintPolicy()


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# 2026 Mid-Autumn (Sep 25-27) and National Day (Oct 1-7) off; Sun Sep 20 and Sat Oct 10 worked.
CN = WorkCalendar(
    holidays=[
        *_span(date(2026, 9, 25), date(2026, 9, 27)),
        *_span(date(2026, 10, 1), date(2026, 10, 7)),
    ],
    makeup_workdays=[date(2026, 9, 20), date(2026, 10, 10)],
)
PLAIN = WorkCalendar()


def sh(mo: int, d: int, h: int = 0, mi: int = 0, y: int = 2026) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# --------------------------------------------------------------------------- policy


def test_policy_defaults_are_domain_md():
    assert POLICY.to_dict() == {
        "general_resolve_working_days": 5,
        "major_first_response_working_hours": 4,
        "major_plan_working_days": 2,
        "major_resolve_working_days": 10,
        "supervisors": [],
        "major_categories": [],
        "major_customer_size_tiers": ["large"],
        "major_customer_grades": ["A"],
        "departments_by_category": {},
        "coordinator_department": "customer_service",
    }
    assert POLICY.resolve_days("general") == 5
    assert POLICY.resolve_days("major") == 10


def test_policy_from_dict_overrides_and_round_trips():
    policy = ComplaintPolicy.from_dict({"major_first_response_working_hours": 2.5})
    assert policy.major_first_response_working_hours == 2.5
    assert policy.general_resolve_working_days == 5
    assert ComplaintPolicy.from_dict(policy.to_dict()) == policy
    assert ComplaintPolicy.from_dict({}) == POLICY
    assert ComplaintPolicy.from_dict(None) == POLICY
    whole = ComplaintPolicy.from_dict({"general_resolve_working_days": 3.0})
    assert whole.general_resolve_working_days == 3
    assert isinstance(whole.to_dict()["general_resolve_working_days"], int)
    assert (
        ComplaintPolicy.from_dict({"general_resolve_working_days": 0}).resolve_days("general") == 0
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"colour": 1}, "colour"),
        ({"general_resolve_working_days": -1}, "general_resolve_working_days"),
        ({"general_resolve_working_days": 1.5}, "general_resolve_working_days"),
        ({"general_resolve_working_days": "5"}, "general_resolve_working_days"),
        ({"general_resolve_working_days": True}, "general_resolve_working_days"),
        ({"general_resolve_working_days": 366}, "general_resolve_working_days"),
        ({"major_first_response_working_hours": 0}, "major_first_response_working_hours"),
        (
            {"major_first_response_working_hours": float("nan")},
            "major_first_response_working_hours",
        ),
        ({"major_first_response_working_hours": None}, "major_first_response_working_hours"),
        ({"major_plan_working_days": 11}, "major_plan_working_days"),
    ],
)
def test_policy_rejects_bad_values_per_key(data, key):
    with pytest.raises(PolicyError) as info:
        ComplaintPolicy.from_dict(data)
    assert key in info.value.errors
    assert isinstance(info.value, ValueError)


def test_policy_rejects_non_object():
    with pytest.raises(PolicyError) as info:
        ComplaintPolicy.from_dict([1, 2])
    assert "_schema" in info.value.errors


# --------------------------------------------------------------------------- numbers


def test_numbers():
    assert domain.period_of(date(2026, 11, 5)) == "202611"
    assert domain.period_of(date(2027, 1, 31)) == "202701"
    assert domain.format_number("202611", 42) == "CMP-202611-00042"
    assert domain.format_number("202611", 1) == "CMP-202611-00001"
    assert domain.format_number("202611", 99999) == "CMP-202611-99999"
    assert domain.format_number("202611", 123456) == "CMP-202611-123456"
    with pytest.raises(ValueError):
        domain.format_number("202611", 0)


def test_number_period_is_the_tenant_local_month():
    # 2026-11-30 17:00 UTC is already December 1st in Shanghai
    instant = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert domain.period_of(PLAIN.local_date(instant)) == "202612"
    assert domain.period_of(WorkCalendar(timezone="Europe/Berlin").local_date(instant)) == "202611"


# --------------------------------------------------------------------------- lifecycle

# Written out independently of domain.TRANSITIONS: every allowed move, as
# "status  action  new status".
MOVES = """
received            acknowledge   acknowledged
acknowledged        investigate   investigating
investigating       propose       solution_proposed
solution_proposed   propose       solution_proposed
solution_proposed   implement     implementing
implementing        propose       solution_proposed
implementing        resolve       resolved
resolved            close         closed
resolved            reopen        reopened
closed              reopen        reopened
reopened            investigate   investigating
reopened            propose       solution_proposed
"""
# Any status but these may wait for the customer (and resume to where it was).
NOT_RUNNING = ("waiting_customer", "resolved", "closed")
RUNNING = tuple(status for status in domain.STATUSES if status not in NOT_RUNNING)
EXPECTED = {
    **{(status, action): new for status, action, new in map(str.split, MOVES.strip().splitlines())},
    **{(status, "wait_customer"): "waiting_customer" for status in RUNNING},
}


@pytest.mark.parametrize("status", domain.STATUSES)
@pytest.mark.parametrize("action", domain.ACTIONS)
def test_every_status_and_action(status, action):
    if status == "waiting_customer" and action == "resume":
        for paused_from in RUNNING:
            assert domain.next_status(status, action, paused_from) == paused_from
        return
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            domain.next_status(status, action, "investigating")
        assert status in str(info.value) and action in str(info.value)
        assert action not in domain.allowed_actions(status)
    else:
        assert domain.next_status(status, action) == expected
        assert action in domain.allowed_actions(status)


def test_resume_needs_a_running_status_to_return_to():
    with pytest.raises(IllegalTransition):
        domain.next_status("waiting_customer", "resume", None)
    with pytest.raises(IllegalTransition):
        domain.next_status("waiting_customer", "resume", "closed")
    with pytest.raises(IllegalTransition):
        domain.next_status("waiting_customer", "wait_customer", "received")


def test_allowed_actions_listed_per_status():
    assert domain.allowed_actions("received") == ("acknowledge", "wait_customer")
    assert domain.allowed_actions("waiting_customer") == ("resume",)
    assert domain.allowed_actions("closed") == ("reopen",)
    assert set(domain.allowed_actions("resolved")) == {"close", "reopen"}
    assert set(domain.STATUSES) == set(RUNNING) | {"waiting_customer", "resolved", "closed"}


def test_follow_up_answer():
    assert domain.follow_up_action("very_satisfied") == "close"
    assert domain.follow_up_action("satisfied") == "close"
    for level in ("neutral", "dissatisfied", "very_dissatisfied"):
        assert domain.follow_up_action(level) == "reopen"
    assert domain.follow_up_action(None) is None


# --------------------------------------------------------------------------- deadlines


def test_general_complaint_resolves_in_five_working_days():
    d = domain.initial_deadlines("general", sh(11, 23, 10), POLICY, PLAIN)  # a Monday
    assert d == Deadlines(resolve_by=sh(11, 30, 18))
    assert d.to_dict() == {"resolve_by": sh(11, 30, 18).astimezone(UTC).isoformat()}


def test_major_complaint_received_late_on_friday_crosses_the_weekend():
    d = domain.initial_deadlines("major", sh(11, 27, 17), POLICY, PLAIN)
    assert d.first_response_by == sh(11, 30, 12)  # 1 h Friday, 3 h Monday morning
    assert d.plan_by == sh(12, 1, 18)
    assert d.resolve_by == sh(12, 11, 18)
    assert list(d.to_dict()) == ["first_response_by", "plan_by", "resolve_by"]
    assert d.to_dict()["first_response_by"].endswith("+00:00")


@pytest.mark.parametrize(
    ("received", "first_response_by"),
    [
        (sh(11, 28, 10), sh(11, 30, 14)),  # Saturday: counting starts Monday 09:00
        (sh(11, 23, 12, 30), sh(11, 23, 17)),  # lunch break: counting starts at 13:00
        (sh(11, 23, 18), sh(11, 24, 14)),  # at closing time
        (sh(11, 23, 8), sh(11, 23, 14)),  # before opening
    ],
)
def test_first_response_hours_count_only_working_time(received, first_response_by):
    assert domain.initial_deadlines("major", received, POLICY, PLAIN).first_response_by == (
        first_response_by
    )


def test_national_day_holidays_and_makeup_saturday():
    d = domain.initial_deadlines("general", sh(9, 30, 10), POLICY, CN)
    # Oct 8, Oct 9, Sat Oct 10 (make-up), Oct 12, Oct 13
    assert d.resolve_by == sh(10, 13, 18)
    major = domain.initial_deadlines("major", sh(9, 30, 16), POLICY, CN)
    assert major.first_response_by == sh(10, 8, 11)  # 2 h on Sep 30, 2 h after the holiday
    assert major.plan_by == sh(10, 9, 18)
    assert major.resolve_by == sh(10, 20, 18)


def test_received_on_a_holiday_counts_from_the_next_working_day():
    assert domain.initial_deadlines("general", sh(10, 1, 10), POLICY, CN).resolve_by == sh(
        10, 13, 18
    )
    major = domain.initial_deadlines("major", sh(10, 3, 10), POLICY, CN)
    assert major.first_response_by == sh(10, 8, 14)


def test_makeup_working_days_count():
    saturday = domain.initial_deadlines("major", sh(10, 10, 10), POLICY, CN)
    assert saturday.first_response_by == sh(10, 10, 15)  # the make-up Saturday is worked
    assert domain.initial_deadlines("general", sh(10, 10, 10), POLICY, CN).resolve_by == sh(
        10, 16, 18
    )
    sunday = domain.initial_deadlines("major", sh(9, 19, 11), POLICY, CN)
    assert sunday.first_response_by == sh(9, 20, 14)  # Sunday Sep 20 is worked
    # from Friday Sep 18: Sun 20, Mon 21, Tue 22, Wed 23, Thu 24 (25-27 are off)
    assert domain.initial_deadlines("general", sh(9, 18, 9), POLICY, CN).resolve_by == sh(9, 24, 18)
    # from Tuesday Sep 22: 23, 24, then 28, 29, 30
    assert domain.initial_deadlines("general", sh(9, 22, 9), POLICY, CN).resolve_by == sh(9, 30, 18)


def test_policy_numbers_change_the_deadlines():
    policy = ComplaintPolicy.from_dict(
        {"major_first_response_working_hours": 1, "major_plan_working_days": 1}
    )
    d = domain.initial_deadlines("major", sh(11, 23, 17, 30), policy, PLAIN)
    assert d.first_response_by == sh(11, 24, 9, 30)
    assert d.plan_by == sh(11, 24, 18)


def test_reopened_complaint_gets_a_fresh_resolve_limit():
    d = domain.initial_deadlines("major", sh(9, 30, 16), POLICY, CN)
    again = domain.reopened_deadlines(d, "major", sh(10, 22, 10), POLICY, CN)
    assert again.first_response_by == d.first_response_by
    assert again.plan_by == d.plan_by
    assert again.resolve_by == sh(11, 5, 18)  # 10 working days after Oct 22


# --------------------------------------------------------------------------- pauses


def test_paused_working_time_skips_nights_weekends_and_holidays():
    assert CN.working_time_between(sh(9, 30, 17), sh(10, 8, 10)) == 2 * H
    assert CN.working_time_between(sh(10, 2, 10), sh(10, 5, 10)) == timedelta(0)
    assert CN.working_time_between(sh(9, 19, 10), sh(9, 21, 10)) == 9 * H  # Sunday worked


def test_shift_moves_only_unmet_limits_by_the_paused_working_time():
    d = domain.initial_deadlines("major", sh(9, 30, 16), POLICY, CN)
    paused = CN.working_time_between(sh(9, 30, 17, 30), sh(10, 8, 10))
    assert paused == timedelta(hours=1.5)
    shifted = domain.shift_deadlines(d, ("plan", "resolve"), paused, CN)
    assert shifted.first_response_by == d.first_response_by  # met before the pause
    assert shifted.plan_by == sh(10, 10, 10, 30)  # onto the make-up Saturday
    assert shifted.resolve_by == sh(10, 21, 10, 30)


def test_shift_from_a_period_end_continues_next_working_morning():
    d = Deadlines(resolve_by=sh(9, 30, 18))
    assert domain.shift_deadlines(d, ("resolve",), 3 * H, CN).resolve_by == sh(10, 8, 12)
    assert domain.shift_deadlines(d, ("resolve",), timedelta(0), CN) == d
    assert domain.shift_deadlines(d, ("plan",), 3 * H, CN) == d  # no plan limit: nothing


def test_two_pauses_add_up_like_one():
    d = domain.initial_deadlines("general", sh(11, 23, 10), POLICY, PLAIN)
    once = domain.shift_deadlines(d, ("resolve",), 5 * H, PLAIN)
    twice = domain.shift_deadlines(
        domain.shift_deadlines(d, ("resolve",), 2 * H, PLAIN), ("resolve",), 3 * H, PLAIN
    )
    assert once == twice
    assert once.resolve_by == sh(12, 1, 15)  # Tuesday 9-12 and 13-15


# --------------------------------------------------------------------------- the clock

MAJOR = domain.initial_deadlines("major", sh(11, 23, 10), POLICY, PLAIN)
# first response by Mon 15:00, plan by Wed 18:00, resolve by Mon Dec 7 18:00


def test_nothing_missed_before_the_deadlines():
    clock = Clock(MAJOR)
    assert clock.missed(sh(11, 23, 15)) == ()  # exactly at the deadline is in time
    assert not clock.overdue(sh(11, 23, 15))
    assert clock.unmet() == ("first_response", "plan", "resolve")


def test_unmet_limits_past_due_are_missed_and_overdue():
    clock = Clock(MAJOR)
    at = sh(11, 26, 9)
    assert clock.missed(at) == ("first_response", "plan")
    assert clock.to_escalate(at) == ("first_response", "plan")
    assert clock.overdue(at)
    assert clock.missed(sh(12, 8, 9)) == ("first_response", "plan", "resolve")


def test_limits_met_in_time_are_not_missed():
    clock = Clock(MAJOR, met={"first_response": sh(11, 23, 11), "plan": sh(11, 25, 17)})
    assert clock.missed(sh(11, 30, 9)) == ()
    assert clock.unmet() == ("resolve",)
    assert not clock.overdue(sh(11, 30, 9))


def test_limit_met_late_is_missed_even_while_paused():
    clock = Clock(MAJOR, met={"first_response": sh(11, 23, 16)}, paused=True)
    assert clock.missed(sh(11, 23, 17)) == ("first_response",)


def test_paused_clock_misses_nothing_unmet_and_is_not_overdue():
    clock = Clock(MAJOR, paused=True)
    assert clock.missed(sh(12, 20, 9)) == ()
    assert not clock.overdue(sh(12, 20, 9))


def test_each_missed_limit_escalates_once():
    clock = Clock(MAJOR, escalated=frozenset({"first_response"}))
    assert clock.to_escalate(sh(11, 26, 9)) == ("plan",)
    done = Clock(MAJOR, escalated=frozenset({"first_response", "plan"}))
    assert done.to_escalate(sh(11, 26, 9)) == ()
    assert done.overdue(sh(11, 26, 9))  # still overdue, just not escalated again


def test_general_complaint_has_only_the_resolve_limit():
    general = domain.initial_deadlines("general", sh(11, 23, 10), POLICY, PLAIN)
    clock = Clock(general)
    assert clock.unmet() == ("resolve",)
    assert clock.missed(sh(12, 1, 9)) == ("resolve",)


def test_within_deadline():
    assert domain.within_deadline(sh(11, 30, 18), sh(11, 30, 18)) is True
    assert domain.within_deadline(sh(11, 30, 18), sh(11, 30, 18, 1)) is False
    assert domain.within_deadline(None, sh(11, 30, 18)) is None


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from(domain.SEVERITIES),
)
def test_deadlines_are_ordered_and_in_the_future(naive, severity):
    received = naive.replace(tzinfo=SH)
    d = domain.initial_deadlines(severity, received, POLICY, CN)
    assert d.resolve_by > received
    if severity == "major":
        assert received < d.first_response_by <= d.plan_by <= d.resolve_by
        assert CN.working_time_between(received, d.first_response_by) == 4 * H
    else:
        assert d.first_response_by is None and d.plan_by is None
