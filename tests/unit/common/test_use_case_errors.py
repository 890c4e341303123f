"""The use-case errors, the caller and the page schema every service shares: errors map to
problem+json in the app factory (the statuses and bodies clients got from each service's
own mapping), the caller is keyword-only, an event acts as ``system``."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from flask import Blueprint
from marshmallow import Schema, fields

from revisit_common import errors, webapp
from revisit_common.caller import SYSTEM, Caller
from revisit_common.paging import page_schema
from revisit_common.problems import PROBLEM_TYPE


class WidgetError(errors.Invalid):
    detail = "invalid widget"


RAISED = {
    "missing": errors.NotFound("widget"),
    "taken": errors.Conflict("widget is already closed"),
    "refused": errors.Forbidden("only the lead department resolves an issue"),
    "invalid": errors.Invalid({"due": ["must be a working day"]}),
    "widget": WidgetError({"size": ["too large", "odd"]}),
    "empty": errors.Invalid({}),
}


@pytest.fixture(scope="module")
def client():
    blp = Blueprint("raising", __name__)

    @blp.get("/raise/<name>")
    def raising(name):
        raise RAISED[name]

    app = webapp.create_app(
        service="t", title="t", blueprints=(), internal_token=None, max_body_bytes=1024, public=True
    )
    app.register_blueprint(blp)
    return app.test_client()


@pytest.mark.parametrize(
    ("name", "status", "detail", "errs"),
    [
        ("missing", 404, "widget not found", None),
        ("taken", 409, "widget is already closed", None),
        ("refused", 403, "only the lead department resolves an issue", None),
        ("invalid", 422, "invalid fields", {"due": ["must be a working day"]}),
        ("widget", 422, "invalid widget", {"size": ["too large", "odd"]}),
        ("empty", 422, "invalid fields", None),
    ],
)
def test_a_use_case_error_is_one_problem(client, name, status, detail, errs):
    response = client.get(f"/raise/{name}", headers={"X-Request-ID": "rid-1"})
    assert response.status_code == status
    assert response.content_type == PROBLEM_TYPE
    body = response.get_json()
    expected = {
        "type": f"https://revisit.example/problems/{status}",
        "title": body["title"],
        "status": status,
        "detail": detail,
        "request_id": "rid-1",
    }
    if errs is not None:
        expected["errors"] = errs
    assert body == expected


def test_the_errors_keep_their_standard_bases():
    assert isinstance(errors.NotFound("x"), LookupError)
    assert isinstance(errors.Conflict("x"), RuntimeError)
    assert isinstance(errors.Forbidden("x"), PermissionError)
    assert isinstance(errors.Invalid({}), ValueError)
    assert str(errors.Invalid({"a": ["b", "c"], "d": ["e"]})) == "a: b, c; d: e"


def test_the_caller_is_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        Caller("tenant-a")  # type: ignore[misc]
    caller = Caller(tenant_id="tenant-a", actor="key-1", role="agent")
    with pytest.raises(dataclasses.FrozenInstanceError):
        caller.role = "admin"  # type: ignore[misc]


def test_an_event_handler_acts_as_system():
    envelope = SimpleNamespace(tenantid="tenant-a", correlationid="c-1", data={})
    caller = Caller.of_event(envelope)
    assert caller == Caller(tenant_id="tenant-a", correlation_id="c-1")
    assert (caller.actor, caller.role, caller.department) == (SYSTEM, SYSTEM, None)


def test_a_page_schema_is_named_and_dumps_items_and_cursor():
    item = Schema.from_dict({"id": fields.String()}, name="ItemSchema")
    page = page_schema("ItemPageSchema", item)
    assert page.__name__ == "ItemPageSchema"
    dumped = page().dump({"items": [{"id": "a"}], "next_cursor": None})
    assert dumped == {"items": [{"id": "a"}], "next_cursor": None}
