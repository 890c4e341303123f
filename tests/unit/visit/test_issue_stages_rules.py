"""The pure rules of an issue's follow-through: open → resolved → confirmed | open, stage
statuses as of a day, completing a stage, which issues may become cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from visit_service.domain import IllegalTransition
from visit_service.issue_rules import (
    ISSUE_STATUSES,
    NoSuchStage,
    complete_stage,
    confirmation,
    issue_transition,
    may_become_case,
    stage_status,
    stage_view,
)

AT = datetime(2030, 3, 10, 2, 0, tzinfo=UTC)
STAGES = [
    {"name": "analyse", "owner": "wu", "due_date": "2030-03-09"},
    {"name": "fix", "owner": None, "due_date": "2030-03-10"},
    {"name": "verify", "owner": "li", "due_date": "2030-03-01"},
]

# --------------------------------------------------------------------------- state machine


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("open", "resolve", "resolved"),
        ("resolved", "confirm", "confirmed"),
        ("resolved", "reopen", "open"),
    ],
)
def test_allowed_transitions(status, action, after):
    assert issue_transition(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("open", "confirm"),
        ("open", "reopen"),
        ("resolved", "resolve"),
        ("confirmed", "resolve"),
        ("confirmed", "confirm"),
        ("confirmed", "reopen"),
        ("open", "close"),
    ],
)
def test_refused_transitions(status, action):
    with pytest.raises(IllegalTransition, match=f"cannot {action} a {status} issue"):
        issue_transition(status, action)


def test_unknown_status_is_a_bug_not_a_conflict():
    with pytest.raises(ValueError, match="unknown issue status") as raised:
        issue_transition("closed", "resolve")
    assert not isinstance(raised.value, IllegalTransition)


def test_the_statuses_are_those_of_the_machine():
    assert ISSUE_STATUSES == ("open", "resolved", "confirmed")


def test_confirmation_satisfied_confirms_and_not_satisfied_reopens():
    assert confirmation("resolved", True) == "confirmed"
    assert confirmation("resolved", False) == "open"


@pytest.mark.parametrize("status", ["open", "confirmed"])
@pytest.mark.parametrize("satisfied", [True, False])
def test_only_a_resolved_issue_is_confirmed(status, satisfied):
    with pytest.raises(IllegalTransition, match=f"only a resolved issue.*{status}"):
        confirmation(status, satisfied)


def test_a_reopened_issue_goes_round_again():
    status = "open"
    for satisfied in (False, False, True):
        status = issue_transition(status, "resolve")
        status = confirmation(status, satisfied)
    assert status == "confirmed"


@pytest.mark.parametrize(
    ("status", "allowed"), [("open", False), ("resolved", True), ("confirmed", True)]
)
def test_only_resolved_or_confirmed_issues_become_cases(status, allowed):
    assert may_become_case(status) is allowed


# --------------------------------------------------------------------------- stages


@pytest.mark.parametrize(
    ("due", "today", "status"),
    [
        ("2030-03-10", date(2030, 3, 9), "pending"),
        ("2030-03-10", date(2030, 3, 10), "pending"),  # due today is not late yet
        ("2030-03-10", date(2030, 3, 11), "overdue"),
    ],
)
def test_stage_status_by_due_date(due, today, status):
    assert stage_status({"name": "x", "due_date": due}, today) == status


def test_a_done_stage_stays_done_after_its_due_date():
    stage = {"name": "x", "due_date": "2030-03-01", "completed_at": AT.isoformat()}
    assert stage_status(stage, date(2031, 1, 1)) == "done"


def test_a_stage_without_due_date_is_never_overdue():
    assert stage_status({"name": "x", "due_date": None}, date(2100, 1, 1)) == "pending"


def test_stage_view_numbers_from_one_and_parses():
    view = stage_view(STAGES, date(2030, 3, 10))
    assert [(s["n"], s["name"], s["status"]) for s in view] == [
        (1, "analyse", "overdue"),
        (2, "fix", "pending"),
        (3, "verify", "overdue"),
    ]
    assert view[0]["due_date"] == date(2030, 3, 9)
    assert view[0]["owner"] == "wu" and view[1]["owner"] is None
    assert view[0]["completed_at"] is None and view[0]["completed_by"] is None
    assert stage_view([], date(2030, 3, 10)) == []


def test_complete_stage_returns_a_new_timetable():
    after = complete_stage(STAGES, 2, AT, "key-1", "open")
    assert after[1] == {**STAGES[1], "completed_at": AT.isoformat(), "completed_by": "key-1"}
    assert after[0] == STAGES[0] and after[2] == STAGES[2]
    assert "completed_at" not in STAGES[1]  # the input is left alone
    view = stage_view(after, date(2030, 3, 20))
    assert [s["status"] for s in view] == ["overdue", "done", "overdue"]
    assert view[1]["completed_at"] == AT


def test_stages_complete_in_any_order_and_on_a_resolved_issue():
    after = complete_stage(STAGES, 3, AT, None, "open")
    after = complete_stage(after, 1, AT, None, "resolved")
    assert [bool(s.get("completed_at")) for s in after] == [True, False, True]


def test_completing_a_stage_twice_is_refused():
    after = complete_stage(STAGES, 1, AT, None, "open")
    with pytest.raises(IllegalTransition, match="stage 1 has been completed already"):
        complete_stage(after, 1, AT, None, "open")


@pytest.mark.parametrize("n", [0, -1, 4, 21])
def test_unknown_stage_numbers(n):
    with pytest.raises(NoSuchStage):
        complete_stage(STAGES, n, AT, None, "open")


def test_no_stage_of_an_issue_without_stages():
    with pytest.raises(NoSuchStage):
        complete_stage([], 1, AT, None, "open")


def test_stages_of_a_confirmed_issue_are_closed():
    with pytest.raises(IllegalTransition, match="confirmed"):
        complete_stage(STAGES, 1, AT, None, "confirmed")
