"""A fresh survey service per test (SQLite under tmp_path), a respondent, and a survey."""

from __future__ import annotations

import pytest

from survey_service.bootstrap import SPEC
from tests.support.service import service_runtime
from tests.support.surveys import SURVEY, Respondent


@pytest.fixture
def respondent(app):
    return Respondent(app)


@pytest.fixture
def survey(client):
    r = client.post("/api/v1/surveys", SURVEY)
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def runtime(tmp_path):
    with service_runtime(SPEC, tmp_path) as rt:
        yield rt
