"""The survey service as its tests drive it: a questionnaire, invitations, and the customer
who answers through the link."""

from __future__ import annotations

from .client import TOKEN

QUESTIONS = [
    {"id": "overall", "kind": "satisfaction", "text": "Overall, how satisfied are you?"},
    {"id": "attitude", "kind": "rating", "text": "Sales attitude", "required": True},
    {"id": "speed", "kind": "rating", "text": "Response speed"},
    {"id": "recommend", "kind": "nps", "text": "Would you recommend us?"},
    {
        "id": "likes",
        "kind": "choice",
        "text": "What do you like?",
        "options": ["price", "quality", "service"],
        "multiple": True,
    },
    {"id": "comment", "kind": "text", "text": "Anything else?"},
]
SURVEY = {"title": "Satisfaction 2026", "questions": QUESTIONS}


class Respondent:
    """A customer following a survey link: the gateway forwards it with its internal token
    and no tenant identity."""

    def __init__(self, app):
        self.http = app.test_client()

    def get(self, token):
        return self.http.get(
            f"/api/v1/survey-responses/{token}", headers={"X-Revisit-Internal-Token": TOKEN}
        )

    def answer(self, token, answers, **headers):
        return self.http.post(
            f"/api/v1/survey-responses/{token}",
            json={"answers": answers},
            headers={"X-Revisit-Internal-Token": TOKEN, **headers},
        )


def invite(client, survey_id, customer_ids, **extra):
    r = client.post(
        f"/api/v1/surveys/{survey_id}/invitations", {"customer_ids": customer_ids, **extra}
    )
    assert r.status_code == 201, r.json
    return {item["customer_id"]: item["token"] for item in r.json["items"]}
