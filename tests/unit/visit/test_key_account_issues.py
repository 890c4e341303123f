"""A problem found on a visit to a key account (grade A) gets an on-site response the same or
next working day (DOMAIN.md §6): its due date is the next working day unless a sooner one
was asked for. Other customers' issues keep the date asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.clock import FakeClock
from tests.support.outbox import events_of
from tests.support.service import service_runtime
from tests.support.visits import plan, register
from visit_service.bootstrap import SPEC

# Friday 6 March 2026, 10:00 in Shanghai (the default time zone): next working day Monday 9th.
FRIDAY = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def runtime(tmp_path, customers):
    with service_runtime(
        SPEC, tmp_path, peers={"customer": customers}, clock=FakeClock(FRIDAY)
    ) as rt:
        yield rt


def _issue(**fields) -> dict:
    return {
        "category": "technical",
        "description": "pump noise",
        "department": "technical",
        **fields,
    }


def _complete(client, customer_id, *issues) -> list[dict]:
    visit = plan(client, customer_id)
    done = client.post(
        f"/api/v1/visits/{visit['id']}/complete",
        {"satisfaction": "satisfied", "issues": list(issues)},
    )
    assert done.status_code == 200, done.json
    return done.json["issues"]


def test_a_key_accounts_issue_is_due_the_next_working_day(client, feed, runtime):
    key_account = register(feed, grade="A")
    unasked, later, sooner = _complete(
        client,
        key_account,
        _issue(),
        _issue(due_date="2026-03-20"),
        _issue(due_date="2026-03-06"),
    )
    assert unasked["due_date"] == "2026-03-09"
    assert later["due_date"] == "2026-03-09"  # the on-site response comes first
    assert sooner["due_date"] == "2026-03-06"  # a sooner date asked for stands
    raised = events_of(runtime, "IssueRaised")
    assert [e["data"]["due_date"] for e in raised] == ["2026-03-09", "2026-03-09", "2026-03-06"]


def test_other_customers_issues_keep_the_date_asked_for(client, feed):
    customer = register(feed, grade="B")
    unasked, asked = _complete(client, customer, _issue(), _issue(due_date="2026-03-20"))
    assert unasked["due_date"] is None
    assert asked["due_date"] == "2026-03-20"
