"""The survey use cases read the current instant from the runtime's clock: a survey created,
customers invited, an answer received and the survey closed, all at instants the test
chooses (none of it depends on the day the tests run)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from survey_service.bootstrap import SPEC
from tests.support.clock import FakeClock
from tests.support.outbox import events_of
from tests.support.service import service_runtime
from tests.support.surveys import SURVEY, invite

ANSWERS = {"overall": "satisfied", "attitude": 4, "speed": 5, "recommend": 9}


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


@pytest.fixture
def runtime(tmp_path, clock):
    with service_runtime(SPEC, tmp_path, clock=clock) as rt:
        yield rt


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_every_stamp_is_the_runtime_clocks(client, respondent, clock, runtime):
    created = client.post("/api/v1/surveys", SURVEY)
    assert created.status_code == 201
    survey_id = created.json["id"]
    assert _at(created.json["created_at"]) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    clock.advance(hours=1)
    token = invite(client, survey_id, ["c1"])["c1"]
    [invitation] = client.get(f"/api/v1/surveys/{survey_id}/invitations").json["items"]
    assert _at(invitation["created_at"]) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    clock.advance(days=2)
    answered = respondent.answer(token, ANSWERS)
    assert answered.status_code == 201
    assert _at(answered.json["responded_at"]) == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    [event] = events_of(runtime, "SurveyResponded")
    assert _at(event["data"]["responded_at"]) == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

    clock.advance(days=1)
    closed = client.post(f"/api/v1/surveys/{survey_id}/close", {})
    assert closed.status_code == 200
    assert _at(closed.json["closed_at"]) == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
