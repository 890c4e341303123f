"""Unit tests of the visit rules (DOMAIN.md §2 "Follow-up visits")."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revisit_common.calendar import WorkCalendar
from tests.support.visits import CAL, DEFAULT, FRIDAY
from visit_service.domain import (
    CALENDAR_DAY_REASONS,
    GRADES,
    REASONS,
    WORKING_DAY_REASONS,
    IllegalTransition,
    PolicyError,
    VisitPolicy,
    add_months,
    audit_sample,
    check_auditable,
    choose_assignee,
    due_date,
    is_overdue,
    key_account_schedule,
    on_time,
    periodic_due,
    sample_size,
    visit_transition,
    within_deadline,
)

# --------------------------------------------------------------------------- policy


def test_defaults_are_domain_md():
    assert DEFAULT.to_dict() == {
        "new_customer_days": 30,
        "repair_days": 14,
        "periodic_months_a": 3,
        "periodic_months_b": 6,
        "periodic_months_c": 12,
        "new_customer_unit": "calendar_days",
        "key_account_offsets": ["2d", "7d", "1m", "3m", "6m"],
        "key_account_offsets_days": None,
        "post_project_working_days": 5,
        "post_complaint_working_days": 3,
        "post_event_working_days": 5,
        "due_on_working_day": True,
        "default_method": "phone",
        "on_site_size_tiers": ["large"],
        "on_site_booking_required": False,
        "risk_watch_months": 1,
        "key_account_method": "on_site",
        "audit_share": 0.1,
        "agents_by_region": {},
        "rollout_target_repair": 0.5,
        "rollout_target_new_customer": 0.1,
        "care_lead_days": 7,
        "care_dates": [],
        "birthday_care_grades": ["A", "B"],
        "holiday_care_grades": ["A"],
    }
    assert [DEFAULT.periodic_months(g) for g in "ABC"] == [3, 6, 12]


def test_to_dict_is_json_and_round_trips():
    policy = VisitPolicy.from_dict(
        {"agents_by_region": {"east": ["a", "b"]}, "key_account_offsets_days": [30, 2]}
    )
    doc = json.loads(json.dumps(policy.to_dict()))
    assert VisitPolicy.from_dict(doc) == policy
    assert doc["key_account_offsets_days"] == [2, 30]  # stored sorted
    assert policy.agents_for("east") == ("a", "b")
    assert policy.agents_for("west") == ()
    assert policy.agents_for(None) == ()


def test_partial_overrides_keep_other_defaults_and_base():
    policy = VisitPolicy.from_dict({"repair_days": 7})
    assert policy.repair_days == 7
    assert policy.new_customer_days == 30
    again = VisitPolicy.from_dict({"audit_share": 0.25}, base=policy)
    assert (again.repair_days, again.audit_share) == (7, 0.25)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("new_customer_days", -1),
        ("new_customer_days", 1.5),
        ("new_customer_days", True),
        ("new_customer_days", "30"),
        ("repair_days", 99999),
        ("periodic_months_a", 0),
        ("post_complaint_working_days", -3),
        ("audit_share", 0),
        ("audit_share", 1.01),
        ("audit_share", float("nan")),
        ("audit_share", "0.1"),
        ("rollout_target_repair", -0.1),
        ("due_on_working_day", "yes"),
        ("default_method", "carrier_pigeon"),
        ("key_account_offsets_days", []),
        ("key_account_offsets_days", [2, 2]),
        ("key_account_offsets_days", [2, -1]),
        ("key_account_offsets_days", "2,7"),
        ("key_account_offsets_days", list(range(21))),
        ("agents_by_region", ["east"]),
        ("agents_by_region", {"east": "alice"}),
        ("agents_by_region", {"east": ["a", "a"]}),
        ("agents_by_region", {"east": [""]}),
        ("agents_by_region", {"": ["a"]}),
        ("agents_by_region", {"east": ["x" * 101]}),
    ],
)
def test_bad_values_are_rejected_per_key(key, value):
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({key: value})
    assert list(exc.value.errors) == [key]
    assert isinstance(exc.value, ValueError)


def test_unknown_keys_and_non_objects_are_rejected():
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({"cadence": 3, "repair_days": 1})
    assert exc.value.errors == {"cadence": ["unknown setting"]}
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict([1])  # type: ignore[arg-type]
    assert "_schema" in exc.value.errors


def test_every_bad_value_is_reported_together():
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({"repair_days": -1, "audit_share": 2})
    assert set(exc.value.errors) == {"repair_days", "audit_share"}


def test_replace_validates_too():
    with pytest.raises(PolicyError):
        dataclasses.replace(DEFAULT, repair_days=-5)


def test_methods_by_reason():
    assert DEFAULT.method_for("key_account") == "on_site"
    assert DEFAULT.method_for("repair") == "phone"
    email = VisitPolicy.from_dict({"default_method": "email"})
    assert email.method_for("new_customer") == "email"


valid_policies = st.builds(
    lambda data: VisitPolicy.from_dict(data),
    st.fixed_dictionaries(
        {},
        optional={
            "new_customer_days": st.integers(0, 3650),
            "repair_days": st.integers(0, 3650),
            "periodic_months_a": st.integers(1, 120),
            "periodic_months_c": st.integers(1, 120),
            "key_account_offsets_days": st.lists(
                st.integers(0, 3650), min_size=1, max_size=20, unique=True
            ),
            "post_complaint_working_days": st.integers(0, 365),
            "due_on_working_day": st.booleans(),
            "audit_share": st.floats(0.001, 1),
            "agents_by_region": st.dictionaries(
                st.text(min_size=1, max_size=20),
                st.lists(st.text(min_size=1, max_size=20), unique=True, max_size=5),
                max_size=4,
            ),
        },
    ),
)


@given(valid_policies)
def test_any_valid_policy_round_trips_through_json(policy):
    assert VisitPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


# --------------------------------------------------------------------------- due dates


def test_add_months_clamps_to_the_end_of_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 15), 12) == date(2027, 11, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    with pytest.raises(ValueError):
        add_months(date(2026, 1, 1), 1.5)  # type: ignore[arg-type]


@given(st.dates(date(1950, 1, 1), date(2200, 12, 31)), st.integers(-600, 600))
def test_add_months_moves_whole_months(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    assert result.day == day.day or (result + timedelta(days=1)).month != result.month


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("new_customer", date(2026, 12, 21)),  # +30 days is Sunday 20 December → Monday
        ("repair", date(2026, 12, 4)),  # +14 days, a Friday
        ("periodic", date(2027, 2, 22)),  # grade A: +3 months is Saturday → Monday
        ("key_account", date(2026, 11, 23)),  # first offset, +2 days is Sunday → Monday
        ("post_project", date(2026, 11, 27)),  # 5th working day after Friday
        ("post_complaint", date(2026, 11, 25)),  # 3rd working day
        ("post_event", date(2026, 11, 27)),
        ("care", FRIDAY),  # on the date itself
    ],
)
def test_due_dates_by_reason(reason, expected):
    assert due_date(reason, FRIDAY, DEFAULT, CAL, grade="A") == expected


def test_calendar_day_due_dates_stay_put_when_asked():
    policy = VisitPolicy.from_dict({"due_on_working_day": False})
    assert due_date("new_customer", FRIDAY, policy, CAL) == date(2026, 12, 20)
    assert due_date("periodic", FRIDAY, policy, CAL, grade="A") == date(2027, 2, 20)


def test_periodic_cadence_by_grade():
    assert due_date("periodic", date(2026, 1, 15), DEFAULT, CAL, grade="B") == date(2026, 7, 15)
    assert due_date("periodic", date(2026, 1, 15), DEFAULT, CAL, grade="C") == date(2027, 1, 15)
    assert due_date("periodic", date(2026, 1, 15), DEFAULT, CAL) == date(2027, 1, 15)  # no grade


def test_working_days_follow_the_tenant_calendar():
    cal = WorkCalendar.from_dict(
        {"holidays": ["2026-11-23", "2026-11-24"], "makeup_workdays": ["2026-11-22"]}
    )
    # Sunday 22nd is worked, Monday and Tuesday are holidays: 22, 25, 26
    assert due_date("post_complaint", FRIDAY, DEFAULT, cal) == date(2026, 11, 26)
    # a calendar-day due date on a holiday moves to the next working day
    policy = VisitPolicy.from_dict({"repair_days": 3})
    assert due_date("repair", FRIDAY, policy, cal) == date(2026, 11, 25)


def test_tenant_settings_change_due_dates():
    policy = VisitPolicy.from_dict({"new_customer_days": 10, "post_complaint_working_days": 1})
    assert due_date("new_customer", FRIDAY, policy, CAL) == date(2026, 11, 30)
    assert due_date("post_complaint", FRIDAY, policy, CAL) == date(2026, 11, 23)


def test_key_account_schedule():
    # calendar months (DOMAIN.md §6); a day off moves to the next working day
    assert key_account_schedule(FRIDAY, DEFAULT, CAL) == [
        ("2d", date(2026, 11, 23)),
        ("7d", date(2026, 11, 27)),
        ("1m", date(2026, 12, 21)),  # Sunday 20 December → Monday
        ("3m", date(2027, 2, 22)),  # Saturday 20 February → Monday
        ("6m", date(2027, 5, 20)),
    ]


def test_due_date_rejects_bad_input():
    with pytest.raises(ValueError):
        due_date("birthday_party", FRIDAY, DEFAULT, CAL)
    with pytest.raises(ValueError):
        due_date("repair", datetime(2026, 11, 20, tzinfo=UTC), DEFAULT, CAL)
    with pytest.raises(ValueError):
        due_date("periodic", FRIDAY, DEFAULT, CAL, grade="Z")


def test_periodic_due_is_never_in_the_past():
    today = date(2026, 11, 20)
    assert periodic_due(date(2026, 1, 5), "A", DEFAULT, CAL, today) == today
    assert periodic_due(date(2026, 11, 2), "A", DEFAULT, CAL, today) == date(2027, 2, 2)


weekends = st.frozensets(st.integers(0, 6), max_size=5)


@given(
    st.sampled_from(REASONS),
    st.dates(date(2000, 1, 1), date(2090, 1, 1)),
    valid_policies,
    weekends,
    st.sampled_from(GRADES),
)
def test_due_dates_never_precede_the_trigger(reason, base, policy, weekend, grade):
    cal = WorkCalendar(weekend=weekend)
    due = due_date(reason, base, policy, cal, grade=grade)
    assert due >= base
    if reason in WORKING_DAY_REASONS:
        assert cal.is_working_day(due)
    if reason in CALENDAR_DAY_REASONS and policy.due_on_working_day:
        assert cal.is_working_day(due)


# --------------------------------------------------------------------------- assignment


def test_owner_first_then_round_robin_then_nobody():
    assert choose_assignee("li.wei", ["a", "b"], 5) == ("li.wei", 5)
    assert choose_assignee(None, ["a", "b"], 0) == ("a", 1)
    assert choose_assignee(None, ["a", "b"], 1) == ("b", 2)
    assert choose_assignee(None, ["a", "b"], 2) == ("a", 3)
    assert choose_assignee("", ["a"], 0) == ("a", 1)
    assert choose_assignee(None, [], 3) == (None, 3)
    with pytest.raises(ValueError):
        choose_assignee(None, ["a"], -1)


@given(st.lists(st.text(min_size=1), min_size=1, max_size=8, unique=True), st.integers(1, 5))
def test_round_robin_is_fair(agents, rounds):
    counter, picks = 0, []
    for _ in range(rounds * len(agents)):
        who, counter = choose_assignee(None, agents, counter)
        picks.append(who)
    assert Counter(picks) == dict.fromkeys(agents, rounds)


# --------------------------------------------------------------------------- state machines


def test_visit_state_machine():
    assert visit_transition("planned", "complete") == "completed"
    assert visit_transition("planned", "cancel") == "cancelled"
    for status in ("completed", "cancelled"):
        for action in ("complete", "cancel"):
            with pytest.raises(IllegalTransition):
                visit_transition(status, action)
    with pytest.raises(IllegalTransition):
        visit_transition("planned", "reopen")
    with pytest.raises(ValueError):
        visit_transition("lost", "complete")


def test_audits_only_once_and_only_completed():
    check_auditable("completed", False)
    for status in ("planned", "cancelled"):
        with pytest.raises(IllegalTransition):
            check_auditable(status, False)
    with pytest.raises(IllegalTransition):
        check_auditable("completed", True)


# --------------------------------------------------------------------------- timeliness


def test_on_time_uses_the_tenant_time_zone():
    due = date(2026, 11, 30)
    # 23:30 UTC on the 30th is already 1 December in Shanghai
    assert not on_time(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), due, CAL)
    assert on_time(datetime(2026, 11, 30, 15, 59, tzinfo=UTC), due, CAL)
    honolulu = WorkCalendar(timezone="Pacific/Honolulu")
    assert on_time(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), due, honolulu)


def test_overdue_rule():
    due = date(2026, 11, 20)
    assert is_overdue("planned", due, date(2026, 11, 21))
    assert not is_overdue("planned", due, due)
    assert not is_overdue("completed", due, date(2027, 1, 1))
    assert not is_overdue("cancelled", due, date(2027, 1, 1))


def test_within_deadline():
    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert within_deadline(at, None, CAL) is None
    assert within_deadline(at, date(2026, 11, 20), CAL) is True
    assert within_deadline(at, date(2026, 11, 19), CAL) is False


# --------------------------------------------------------------------------- audits


@pytest.mark.parametrize(
    ("population", "share", "expected"),
    [(0, 0.1, 0), (1, 0.1, 1), (9, 0.1, 1), (10, 0.1, 1), (11, 0.1, 2), (30, 0.1, 3),
     (100, 0.1, 10), (7, 1.0, 7), (7, 0.5, 4)],
)  # fmt: skip
def test_sample_size(population, share, expected):
    assert sample_size(population, share) == expected


def test_sample_size_rejects_bad_input():
    for population, share in ((-1, 0.1), (5, 0), (5, 1.5), (True, 0.1)):
        with pytest.raises(ValueError):
            sample_size(population, share)


@given(st.integers(0, 10_000), st.floats(0.001, 1))
def test_sample_size_is_at_least_the_share(population, share):
    k = sample_size(population, share)
    assert k <= population
    assert k >= population * share - 1e-9
    assert (k >= 1) == (population >= 1)


def test_audit_sample_per_assignee_reproducible():
    candidates = [(f"v{i:03}", "ann" if i % 3 else "bob") for i in range(60)] + [("x1", None)]
    groups = audit_sample(candidates, 0.1, random.Random(7))
    assert [(g.assignee, g.population, len(g.sampled)) for g in groups] == [
        ("ann", 40, 4),
        ("bob", 20, 2),
        (None, 1, 1),
    ]
    by_assignee = dict(candidates)
    for group in groups:
        assert all(by_assignee[v] == group.assignee for v in group.sampled)
        assert list(group.sampled) == sorted(group.sampled)
    assert audit_sample(candidates, 0.1, random.Random(7)) == groups
    assert audit_sample([], 0.1, random.Random(7)) == []


candidate_visits = st.lists(
    st.tuples(st.uuids().map(str), st.sampled_from(["a", "b", None])), unique_by=lambda t: t[0]
)


@given(candidate_visits, st.floats(0.01, 1), st.integers(0, 1000))
def test_audit_sample_properties(candidates, share, seed):
    groups = audit_sample(candidates, share, random.Random(seed))
    sampled = [v for g in groups for v in g.sampled]
    assert len(set(sampled)) == len(sampled)
    assert set(sampled) <= {v for v, _ in candidates}
    assert sum(g.population for g in groups) == len(candidates)
    for group in groups:
        assert len(group.sampled) == sample_size(group.population, share)
