"""The apispec plugin behind CONTRACT §4.1 "OpenAPI", on a small flask-smorest app."""

from __future__ import annotations

from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields

from revisit_common.openapi_plugin import ContractPlugin, error_statuses, operation_id
from revisit_common.problems import PROBLEM_TYPE, ProblemSchema


class ThingInSchema(Schema):
    name = fields.String(required=True)
    note = fields.String()


class ThingSchema(Schema):
    id = fields.String()
    name = fields.String()
    note = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    colour = fields.String(metadata={"optional": True})
    secret = fields.String(load_only=True)


def spec() -> dict:
    app = Flask("t")
    app.config.update(API_TITLE="t", API_VERSION="v1", OPENAPI_VERSION="3.1.0")

    class ProblemApi(Api):
        ERROR_SCHEMA = ProblemSchema

    api = ProblemApi(app, spec_kwargs={"extra_plugins": [ContractPlugin()]})
    blp = Blueprint("things", __name__, url_prefix="/api/v1/things")

    @blp.route("")
    class Things(MethodView):
        @blp.arguments(ThingInSchema)
        @blp.response(201, ThingSchema)
        def post(self, data):
            return data

    @blp.route("/<thing_id>")
    class OneThing(MethodView):
        @blp.doc(operationId="read_thing")
        @blp.response(200, ThingSchema)
        def get(self, thing_id):
            return {}

    api.register_blueprint(blp)
    return api.spec.to_dict()


def test_operation_ids_name_the_method_and_path():
    assert operation_id("get", "/api/v1/complaints") == "get_complaints"
    assert (
        operation_id("post", "/api/v1/complaints/{complaint_id}/transitions")
        == "post_complaints_by_complaint_id_transitions"
    )
    assert operation_id("get", "/api/v1/audit-log") == "get_audit_log"
    assert operation_id("get", "/healthz") == "get_healthz"


def test_error_statuses_follow_path_and_body():
    assert [s.value for s in error_statuses("get", "/api/v1/things", {})] == [401, 403, 429]
    assert [s.value for s in error_statuses("get", "/api/v1/things/{id}", {})] == [
        401,
        403,
        404,
        429,
    ]
    assert [s.value for s in error_statuses("post", "/api/v1/things", {})] == [
        400,
        401,
        403,
        404,
        409,
        413,
        422,
        429,
    ]
    query = {"parameters": [{"in": "query", "name": "limit"}]}
    assert 422 in [s.value for s in error_statuses("get", "/api/v1/things", query)]


def test_plugin_sets_ids_errors_and_required():
    doc = spec()
    post = doc["paths"]["/api/v1/things"]["post"]
    get = doc["paths"]["/api/v1/things/{thing_id}"]["get"]
    assert post["operationId"] == "post_things"
    assert get["operationId"] == "read_thing"  # a route's own id is kept
    assert set(get["responses"]) == {"200", "401", "403", "404", "429", "default"}
    assert post["responses"]["409"] == {"$ref": "#/components/responses/CONFLICT"}
    for name, resp in doc["components"]["responses"].items():
        assert list(resp["content"]) == [PROBLEM_TYPE], name
    schemas = doc["components"]["schemas"]
    # the response lists what every dump writes: not load-only, not marked optional
    assert schemas["Thing"]["required"] == ["id", "name", "note", "tags"]
    # the request keeps what a client must send
    assert schemas["ThingIn"]["required"] == ["name"]
    assert schemas["Problem"]["required"] == ["detail", "status", "title", "type"]
