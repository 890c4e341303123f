from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from revisit_common.config import Settings
from revisit_common.outbox import outbox_table
from revisit_common.runtime import ServiceRuntime
from survey_service.bootstrap import SPEC

TOKEN = "internal-test-token"

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


class Client:
    """The survey service's HTTP API as the gateway calls it, for one tenant."""

    def __init__(self, app, tenant: str, role: str = "admin"):
        self.http = app.test_client()
        self.tenant = tenant
        self.role = role

    def headers(self, **extra):
        return {
            "X-Revisit-Internal-Token": TOKEN,
            "X-Revisit-Tenant": self.tenant,
            "X-Revisit-Role": self.role,
            **extra,
        }

    def get(self, path, **kw):
        return self.http.get(path, headers=self.headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(path, json=json, headers=self.headers(), **kw)


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


def events_of(runtime, type_name=None):
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    docs = [json.loads(r.body) for r in rows]
    return [d for d in docs if type_name is None or d["type"] == type_name]


@pytest.fixture
def runtime(tmp_path):
    rt = ServiceRuntime(SPEC, Settings(data_dir=tmp_path, internal_token=TOKEN))
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app, "tenant-a")


@pytest.fixture
def respondent(app):
    return Respondent(app)


@pytest.fixture
def survey(client):
    r = client.post("/api/v1/surveys", SURVEY)
    assert r.status_code == 201, r.json
    return r.json


def invite(client, survey_id, customer_ids, **extra):
    r = client.post(
        f"/api/v1/surveys/{survey_id}/invitations", {"customer_ids": customer_ids, **extra}
    )
    assert r.status_code == 201, r.json
    return {item["customer_id"]: item["token"] for item in r.json["items"]}
