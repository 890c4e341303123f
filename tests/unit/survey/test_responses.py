"""Answering through the single-use link: tokens, 404/409/422, the event, and results."""

from __future__ import annotations

import base64
import hashlib
import random
import threading

import pytest
import sqlalchemy as sa

from survey_service import service
from survey_service.domain import SATISFACTION_LEVELS
from survey_service.models import Invitation
from tests.support.client import Client
from tests.support.outbox import events_of
from tests.support.surveys import invite

GOOD = {"overall": "very_satisfied", "attitude": 4, "speed": 5, "recommend": 9}


def test_answer_once_then_409(client, survey, respondent):
    token = invite(client, survey["id"], ["c1"])["c1"]
    r = respondent.answer(token, GOOD)
    assert r.status_code == 201, r.json
    assert r.json["survey_id"] == survey["id"]
    assert set(r.json) == {"id", "survey_id", "responded_at"}
    again = respondent.answer(token, GOOD)
    assert again.status_code == 409
    assert again.content_type == "application/problem+json"
    assert respondent.get(token).status_code == 409
    assert client.get(f"/api/v1/surveys/{survey['id']}/results").json["responses"] == 1


@pytest.mark.parametrize(
    "token",
    ["A" * 43, "bm90LWEtdG9rZW4tYnV0LWxvbmctZW5vdWdoLXRvLWxvb2s", "short", "x" * 300, "a.b"],
)
def test_unknown_token_is_404(client, survey, respondent, token):
    invite(client, survey["id"], ["c1"])
    r = respondent.answer(token, GOOD)
    assert r.status_code == 404
    assert r.content_type == "application/problem+json"
    assert respondent.get(token).status_code == 404


def test_get_by_token_shows_the_questionnaire_only(client, survey, respondent):
    token = invite(client, survey["id"], ["c1"])["c1"]
    r = respondent.get(token)
    assert r.status_code == 200
    assert r.json["survey_id"] == survey["id"]
    assert r.json["questions"] == survey["questions"]
    assert set(r.json) == {"survey_id", "title", "description", "questions"}


@pytest.mark.parametrize(
    "answers, errors",
    [
        ({"attitude": 9}, {"attitude"}),
        ({"speed": 3}, {"attitude"}),
        ({"attitude": 3, "bogus": 1}, {"bogus"}),
        ({"attitude": 3, "likes": ["gold"], "recommend": 11}, {"likes", "recommend"}),
        ({"attitude": 3, "overall": "meh"}, {"overall"}),
        (
            {"attitude": [3], "likes": [{"a": [1]}], "overall": {"x": 1}},
            {"attitude", "likes", "overall"},
        ),
    ],
)
def test_invalid_answers_are_422_per_question_and_keep_the_token(
    client, survey, respondent, answers, errors
):
    token = invite(client, survey["id"], ["c1"])["c1"]
    r = respondent.answer(token, answers)
    assert r.status_code == 422
    assert set(r.json["errors"]) == errors
    assert respondent.answer(token, GOOD).status_code == 201  # a mistake does not use it up


@pytest.mark.parametrize(
    "body", [{}, {"answers": []}, {"answers": {}, "extra": 1}, {"answers": {"x" * 65: 1}}]
)
def test_invalid_body_is_422(client, survey, respondent, body):
    token = invite(client, survey["id"], ["c1"])["c1"]
    r = respondent.http.post(
        f"/api/v1/survey-responses/{token}",
        json=body,
        headers={"X-Revisit-Internal-Token": "internal-test-token"},
    )
    assert r.status_code == 422


def test_closed_survey_refuses_answers(client, survey, respondent):
    token = invite(client, survey["id"], ["c1"])["c1"]
    client.post(f"/api/v1/surveys/{survey['id']}/close")
    assert respondent.answer(token, GOOD).status_code == 409
    assert respondent.get(token).status_code == 409


def test_token_route_needs_the_gateway_token_but_no_tenant(app, client, survey):
    token = invite(client, survey["id"], ["c1"])["c1"]
    bare = app.test_client()
    url = f"/api/v1/survey-responses/{token}"
    assert bare.post(url, json={"answers": GOOD}).status_code == 401
    wrong = {"X-Revisit-Internal-Token": "wrong"}
    assert bare.post(url, json={"answers": GOOD}, headers=wrong).status_code == 401
    # whatever tenant headers come along, the invitation decides the tenant
    other = Client(app, "tenant-b")
    assert other.post(url, {"answers": GOOD}).status_code == 201


# --------------------------------------------------------------------------- tokens


def test_tokens_are_long_random_and_unique(client, survey):
    tokens = list(invite(client, survey["id"], [f"c{i}" for i in range(300)]).values())
    assert len(set(tokens)) == 300
    raw = [base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)) for t in tokens]
    assert all(len(t) == 43 and len(b) == 32 for t, b in zip(tokens, raw, strict=True))
    assert min(len(b) for b in raw) * 8 >= 128
    # every one of the 256 bits is sometimes set and sometimes not
    bits = [int.from_bytes(b, "big") for b in raw]
    for position in range(256):
        ones = sum((value >> position) & 1 for value in bits)
        assert 0 < ones < 300


def test_tokens_are_never_stored_in_clear(client, survey, runtime, tmp_path):
    tokens = invite(client, survey["id"], ["c1", "c2"])
    rotated = tokens.pop("c1")
    tokens["c1"] = invite(client, survey["id"], ["c1"], reinvite=True)["c1"]
    r = client.post(f"/api/v1/surveys/{survey['id']}/invitations", {"customer_ids": ["c4"]})
    tokens["c4"] = r.json["items"][0]["token"]
    raw = runtime.db.engine.raw_connection()
    try:
        dump = "\n".join(raw.driver_connection.iterdump())
    finally:
        raw.close()
    files = b"".join(p.read_bytes() for p in tmp_path.glob("survey.sqlite3*"))
    for token in tokens.values():
        assert token not in dump
        assert token.encode() not in files
        assert hashlib.sha256(token.encode()).hexdigest() in dump
    assert rotated not in dump
    assert hashlib.sha256(rotated.encode()).hexdigest() not in dump
    with runtime.db.read() as session:
        hashes = session.scalars(sa.select(Invitation.token_hash)).all()
    assert all(len(h) == 64 for h in hashes)


def test_concurrent_answers_with_one_token_are_accepted_once(app, client, survey, runtime):
    token = invite(client, survey["id"], ["c1"])["c1"]
    workers = 8
    barrier = threading.Barrier(workers)
    statuses: list[int] = []

    def submit():
        http = app.test_client()
        barrier.wait()
        r = http.post(
            f"/api/v1/survey-responses/{token}",
            json={"answers": GOOD},
            headers={"X-Revisit-Internal-Token": "internal-test-token"},
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=submit) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201] + [409] * (workers - 1)
    assert len(events_of(runtime, "SurveyResponded")) == 1
    assert client.get(f"/api/v1/surveys/{survey['id']}/results").json["responses"] == 1


def test_claim_succeeds_only_for_an_unused_invitation(client, survey, runtime, respondent):
    invite(client, survey["id"], ["c1"])
    with runtime.db.read() as session:
        invitation_id = session.scalar(sa.select(Invitation.id))
    with runtime.db.transaction() as session:
        assert service.claim(session, invitation_id, service.now()) is True
        assert service.claim(session, invitation_id, service.now()) is False


# --------------------------------------------------------------------------- the event


def test_survey_responded_is_in_the_outbox(client, survey, respondent, runtime):
    tokens = invite(client, survey["id"], ["c1"], visit_ids={"c1": "visit-1"})
    r = respondent.answer(tokens["c1"], GOOD, **{"X-Request-ID": "req-7"})
    assert r.status_code == 201
    (event,) = events_of(runtime, "SurveyResponded")
    assert event["tenantid"] == "tenant-a"
    assert event["source"] == "revisit/survey"
    assert event["subject"] == r.json["id"]
    assert event["correlationid"] == "req-7"
    data = event["data"]
    invitation = client.get(f"/api/v1/surveys/{survey['id']}/invitations").json["items"][0]
    assert data == {
        "response_id": r.json["id"],
        "survey_id": survey["id"],
        "invitation_id": invitation["id"],
        "customer_id": "c1",
        "visit_id": "visit-1",
        "satisfaction": "very_satisfied",
        "recommend_score": 9,
        "average_rating": 4.5,
        "responded_at": data["responded_at"],
    }
    with runtime.db.engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT routing_key FROM outbox")).scalars().all()
    assert keys == ["survey.responded"]


def test_event_without_satisfaction_or_visit(client, survey, respondent, runtime):
    token = invite(client, survey["id"], ["c1"])["c1"]
    respondent.answer(token, {"attitude": 2, "comment": "slow"})
    data = events_of(runtime, "SurveyResponded")[0]["data"]
    assert (data["visit_id"], data["satisfaction"], data["recommend_score"]) == (None, None, None)
    assert data["average_rating"] == 2.0


# --------------------------------------------------------------------------- results


def random_answers(rng: random.Random) -> dict:
    answers = {"attitude": rng.randint(1, 5)}
    if rng.random() < 0.7:
        answers["speed"] = rng.randint(1, 5)
    if rng.random() < 0.8:
        answers["recommend"] = rng.randint(0, 10)
    if rng.random() < 0.8:
        answers["overall"] = rng.choice(SATISFACTION_LEVELS)
    if rng.random() < 0.5:
        answers["likes"] = rng.sample(["price", "quality", "service"], rng.randint(1, 3))
    if rng.random() < 0.3:
        answers["comment"] = f"note {rng.random()}"
    return answers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_results_match_the_answers_given(client, survey, respondent, seed):
    rng = random.Random(seed)
    customers = [f"c{i}" for i in range(rng.randint(5, 30))]
    tokens = invite(client, survey["id"], customers)
    given = []
    for customer in customers:
        if rng.random() < 0.85:
            answers = random_answers(rng)
            assert respondent.answer(tokens[customer], answers).status_code == 201
            given.append(answers)
    out = client.get(f"/api/v1/surveys/{survey['id']}/results").json

    ratings = [a[k] for a in given for k in ("attitude", "speed") if k in a]
    scores = [a["recommend"] for a in given if "recommend" in a]
    assert out["responses"] == len(given)
    assert out["average_rating"] == pytest.approx(sum(ratings) / len(ratings), abs=0.005)
    if scores:
        want = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
        assert out["nps"] == pytest.approx(want, abs=0.05)
    else:
        assert out["nps"] is None
    levels = [a.get("overall") for a in given]
    assert out["satisfaction"] == {lvl: levels.count(lvl) for lvl in SATISFACTION_LEVELS}
    likes = out["questions"]["likes"]
    assert likes["answered"] == sum("likes" in a for a in given)
    for option in ("price", "quality", "service"):
        assert likes["counts"][option] == sum(option in a.get("likes", []) for a in given)
    for score in range(11):
        assert out["questions"]["recommend"]["counts"][str(score)] == scores.count(score)
    assert out["questions"]["comment"]["answered"] == sum("comment" in a for a in given)


def test_results_of_an_unanswered_survey(client, survey):
    out = client.get(f"/api/v1/surveys/{survey['id']}/results").json
    assert out["responses"] == 0
    assert out["average_rating"] is None and out["nps"] is None
    assert out["satisfaction"] == dict.fromkeys(SATISFACTION_LEVELS, 0)
