"""The survey service's tenant routes, called as the gateway calls them (SQLite, no broker)."""

from __future__ import annotations

import pytest

from tests.support.client import Client
from tests.support.paging import every_item
from tests.support.surveys import QUESTIONS, SURVEY, invite

PROBLEM = "application/problem+json"


def test_create_and_get_survey(client, survey):
    assert survey["status"] == "open"
    assert survey["title"] == SURVEY["title"]
    assert [q["id"] for q in survey["questions"]] == [q["id"] for q in QUESTIONS]
    assert survey["satisfaction_question"] == "overall"
    assert survey["recommend_question"] == "recommend"
    assert survey["questions"][4]["multiple"] is True
    assert survey["created_by"] == "admin-key"  # the key the gateway names as actor
    got = client.get(f"/api/v1/surveys/{survey['id']}")
    assert got.status_code == 200
    assert got.json == survey


def test_list_surveys_pages_and_filters(client):
    ids = [
        client.post("/api/v1/surveys", {**SURVEY, "title": f"S{i}"}).json["id"] for i in range(5)
    ]
    assert [s["id"] for s in every_item(client, "/api/v1/surveys", 2)] == ids
    client.post(f"/api/v1/surveys/{ids[0]}/close")
    closed = client.get("/api/v1/surveys?status=closed").json["items"]
    assert [s["id"] for s in closed] == [ids[0]]
    assert client.get("/api/v1/surveys?limit=501").status_code == 422
    assert client.get("/api/v1/surveys?cursor=***").status_code == 422


@pytest.mark.parametrize(
    "body, field",
    [
        ({"questions": QUESTIONS}, "title"),
        ({"title": "T"}, "questions"),
        ({**SURVEY, "questions": []}, "questions"),
        ({**SURVEY, "colour": "red"}, "colour"),
        ({**SURVEY, "questions": [{"id": "a", "kind": "slider", "text": "T"}]}, "questions"),
        ({**SURVEY, "questions": [QUESTIONS[0], QUESTIONS[0]]}, "questions.1.id"),
        (
            {**SURVEY, "questions": [{"id": "c", "kind": "choice", "text": "T"}]},
            "questions.0.options",
        ),
        ({**SURVEY, "satisfaction_question": "comment"}, "satisfaction_question"),
        ({**SURVEY, "recommend_question": "nope"}, "recommend_question"),
    ],
)
def test_invalid_survey_is_422_with_field_errors(client, body, field):
    r = client.post("/api/v1/surveys", body)
    assert r.status_code == 422
    assert r.content_type == PROBLEM
    assert field in r.json["errors"]


def test_malformed_json_is_400(client):
    r = client.http.post(
        "/api/v1/surveys",
        data="{not json",
        headers={**client.headers(), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.content_type == PROBLEM


def test_without_gateway_identity_is_401(app, survey):
    r = app.test_client().get(f"/api/v1/surveys/{survey['id']}")
    assert r.status_code == 401


def test_other_tenant_gets_404_everywhere(app, client, survey):
    sid = survey["id"]
    invite(client, sid, ["c1"])
    other = Client(app, "tenant-b")
    assert other.get(f"/api/v1/surveys/{sid}").status_code == 404
    assert other.get(f"/api/v1/surveys/{sid}/results").status_code == 404
    assert other.get(f"/api/v1/surveys/{sid}/invitations").status_code == 404
    assert other.get(f"/api/v1/surveys/{sid}/responses").status_code == 404
    assert (
        other.post(f"/api/v1/surveys/{sid}/invitations", {"customer_ids": ["c9"]}).status_code
        == 404
    )
    assert other.post(f"/api/v1/surveys/{sid}/close").status_code == 404
    assert other.get("/api/v1/surveys").json["items"] == []
    assert client.get(f"/api/v1/surveys/{sid}").json["status"] == "open"
    assert len(client.get(f"/api/v1/surveys/{sid}/invitations").json["items"]) == 1


def test_unknown_survey_is_404(client):
    assert client.get("/api/v1/surveys/nope").status_code == 404
    assert client.get("/api/v1/surveys/nope/results").status_code == 404


def test_close_survey_twice_is_409(client, survey):
    r = client.post(f"/api/v1/surveys/{survey['id']}/close")
    assert r.status_code == 200
    assert r.json["status"] == "closed"
    assert r.json["closed_at"]
    assert client.post(f"/api/v1/surveys/{survey['id']}/close").status_code == 409
    r = client.post(f"/api/v1/surveys/{survey['id']}/invitations", {"customer_ids": ["c1"]})
    assert r.status_code == 409


# --------------------------------------------------------------------------- invitations


def test_invite_customer_list(client, survey):
    r = client.post(
        f"/api/v1/surveys/{survey['id']}/invitations",
        {"customer_ids": ["c1", "c2", "c1"], "visit_ids": {"c2": "visit-2"}},
    )
    assert r.status_code == 201
    items = r.json["items"]
    assert [(i["customer_id"], i["visit_id"]) for i in items] == [("c1", None), ("c2", "visit-2")]
    assert all(i["token"] and i["invitation_id"] for i in items)
    assert r.json["skipped"] == [] and r.json["more"] is False
    listed = client.get(f"/api/v1/surveys/{survey['id']}/invitations").json["items"]
    assert [i["customer_id"] for i in listed] == ["c1", "c2"]
    assert all("token" not in i and i["used_at"] is None for i in listed)


def test_already_invited_customers_are_skipped(client, survey):
    sid = survey["id"]
    invite(client, sid, ["c1"])
    r = client.post(f"/api/v1/surveys/{sid}/invitations", {"customer_ids": ["c1", "c2"]})
    assert [i["customer_id"] for i in r.json["items"]] == ["c2"]
    assert r.json["skipped"] == ["c1"]
    # the same customer for an online_survey visit is a new invitation
    again = invite(client, sid, ["c1"], visit_ids={"c1": "v1"})
    assert list(again) == ["c1"]
    assert len(client.get(f"/api/v1/surveys/{sid}/invitations").json["items"]) == 3


def test_reinvite_rotates_an_unused_token(client, survey, respondent):
    sid = survey["id"]
    old = invite(client, sid, ["c1"])["c1"]
    new = invite(client, sid, ["c1"], reinvite=True)["c1"]
    assert new != old
    assert respondent.answer(old, {"attitude": 3}).status_code == 404
    assert respondent.answer(new, {"attitude": 3}).status_code == 201
    # once answered, a re-invitation is a new invitation (asked again)
    third = invite(client, sid, ["c1"], reinvite=True)["c1"]
    assert respondent.answer(third, {"attitude": 4}).status_code == 201
    assert client.get(f"/api/v1/surveys/{sid}/results").json["responses"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"customer_ids": []},
        {"customer_ids": [""]},
        {"customer_ids": ["x" * 65]},
        {"customer_ids": ["c"] * 5001},
        {"customer_ids": ["c1"], "segment": {"grade": "A"}},
        {"segment": {}},
        {"segment": {"grade": "D"}},
        {"segment": {"type": "reseller"}},
        {"segment": {"grade": "A"}, "visit_ids": {"c1": "v"}},
        {"segment": {"grade": "A"}, "reinvite": True},
        {"customer_ids": ["c1"], "visit_ids": {"c2": "v"}},
        {"customer_ids": ["c1"], "colour": "red"},
    ],
)
def test_invalid_invitation_body_is_422(client, survey, body):
    r = client.post(f"/api/v1/surveys/{survey['id']}/invitations", body)
    assert r.status_code == 422, r.json
    assert r.json["errors"]


def test_invitation_list_filters(client, survey, respondent):
    sid = survey["id"]
    tokens = invite(client, sid, ["c1", "c2", "c3"])
    respondent.answer(tokens["c2"], {"attitude": 5})
    url = f"/api/v1/surveys/{sid}/invitations"
    used = client.get(url, query_string={"used": "true"}).json["items"]
    assert [i["customer_id"] for i in used] == ["c2"]
    assert used[0]["used_at"]
    unused = client.get(url, query_string={"used": "false"}).json["items"]
    assert [i["customer_id"] for i in unused] == ["c1", "c3"]
    one = client.get(url, query_string={"customer_id": "c3"}).json["items"]
    assert [i["customer_id"] for i in one] == ["c3"]


def test_responses_are_listed_with_their_answers(client, survey, respondent):
    sid = survey["id"]
    tokens = invite(client, sid, ["c1", "c2"], visit_ids={"c1": "v1"})
    respondent.answer(tokens["c1"], {"attitude": 5, "overall": "satisfied", "comment": " ok "})
    respondent.answer(tokens["c2"], {"attitude": 1, "recommend": 2})
    items = client.get(f"/api/v1/surveys/{sid}/responses").json["items"]
    assert [(i["customer_id"], i["visit_id"]) for i in items] == [("c1", "v1"), ("c2", None)]
    assert items[0]["answers"] == {"overall": "satisfied", "attitude": 5, "comment": "ok"}
    assert items[0]["satisfaction"] == "satisfied"
    assert items[1]["recommend_score"] == 2
    assert items[1]["average_rating"] == 1.0
    page = client.get(f"/api/v1/surveys/{sid}/responses?limit=1").json
    assert len(page["items"]) == 1 and page["next_cursor"]
