"""CONTRACT §4.1 "OpenAPI", walked over the whole document the gateway serves (standalone,
in this process): operation ids, array items, problem+json errors, required fields."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from flask import Flask
from flask_smorest import Api

from revisit_common.idempotency_openapi import IdempotencyPlugin
from revisit_common.openapi_plugin import ContractPlugin
from revisit_common.problems import PROBLEM_TYPE, ProblemSchema
from revisit_common.webapp import API_PREFIX, create_app
from revisit_runner.services import ALL
from tests.support.client import ADMIN, TOKEN
from tests.support.settings import make_settings
from tests.support.system import start_system

METHODS = ("get", "put", "post", "patch", "delete")
REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    system = start_system(
        make_settings(
            data_dir=tmp_path_factory.mktemp("system"),
            admin_token=ADMIN,
            queue_prefix=f"oas{secrets.token_hex(4)}",
        )
    )
    try:
        r = system.app.test_client().get("/api/v1/openapi.json")
        assert r.status_code == 200
        yield r.get_json()
    finally:
        system.close()


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


# A "$ref" to a schema, as it reads in the document's JSON text.
REF_TEXT = re.compile(r'"\$ref": "' + re.escape(REF) + r'([^"]+)"')


def refs(node) -> set[str]:
    """The schema names a part of the document refers to, at any depth."""
    return set(REF_TEXT.findall(json.dumps(node, ensure_ascii=False)))


def closure(doc, names: set[str]) -> set[str]:
    schemas = doc["components"]["schemas"]
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(refs(schemas[name]) - seen)
    return seen


def response(doc, value: dict) -> dict:
    ref = value.get("$ref")
    return doc["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else value


def test_every_operation_has_a_unique_operation_id(doc):
    ids = [op.get("operationId") for _, _, op in operations(doc)]
    assert len(ids) >= 40
    assert None not in ids
    assert len(set(ids)) == len(ids)
    assert (
        doc["paths"]["/api/v1/complaints/{complaint_id}/transitions"]["post"]["operationId"]
        == "post_complaints_by_complaint_id_transitions"
    )


def test_every_array_has_items(doc):
    missing = []

    def walk(node, where):
        if isinstance(node, dict):
            kind = node.get("type")
            if (kind == "array" or (isinstance(kind, list) and "array" in kind)) and (
                "items" not in node
            ):
                missing.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(doc, "#")
    assert missing == []


def test_every_error_response_is_problem_json(doc):
    checked = 0
    for path, method, op in operations(doc):
        for status, value in op["responses"].items():
            if status == "default" or status[0] in "45":
                content = response(doc, value)["content"]
                assert list(content) == [PROBLEM_TYPE], (method, path, status)
                assert content[PROBLEM_TYPE]["schema"] == {"$ref": REF + "Problem"}
                checked += 1
    assert checked > 200
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    too_many = response(doc, {"$ref": "#/components/responses/TOO_MANY_REQUESTS"})
    assert "Retry-After" in too_many["headers"]


def test_every_error_status_of_the_contract_is_declared(doc):
    for path, method, op in operations(doc):
        declared = set(op["responses"])
        public = op.get("security") == []
        expected = {"429"} | (set() if public else {"401", "403"})
        if "{" in path:
            expected.add("404")
        if method in ("post", "patch", "put"):
            expected |= {"400", "404", "409", "413", "422"}
        if any(p.get("in") == "query" for p in op.get("parameters", [])):
            expected.add("422")
        assert expected <= declared, (method, path, sorted(expected - declared))
        if public:  # a token in the URL: a bad one is 404, never 401/403
            assert not {"401", "403"} & declared, (method, path)


def test_response_schemas_list_their_required_fields(doc):
    schemas = doc["components"]["schemas"]
    in_responses: set[str] = set()
    in_requests: set[str] = set()
    for _, _, op in operations(doc):
        for status, value in op["responses"].items():
            if status.startswith("2"):
                in_responses |= refs(response(doc, value).get("content", {}))
        in_requests |= refs(op.get("requestBody", {}))
    in_responses = closure(doc, in_responses)
    in_requests = closure(doc, in_requests)
    assert {"Complaint", "ComplaintSummary", "ComplaintPage", "LedgerEntry"} <= in_responses
    # one schema for both would make "required" mean two things
    assert in_responses & in_requests == set()
    for name in sorted(in_responses):
        schema = schemas[name]
        properties = set(schema.get("properties", {}))
        assert properties, name
        assert set(schema.get("required", [])) <= properties, name
        assert schema.get("required"), name
    complaint = schemas["Complaint"]
    assert {"id", "status", "actions", "ledger", "resolved_at"} <= set(complaint["required"])
    assert complaint["properties"]["resolved_at"]["type"] == ["string", "null"]
    assert schemas["ComplaintPage"]["properties"]["items"]["items"] == {
        "$ref": REF + "ComplaintSummary"
    }
    # written only when it applies: not required (a choice question's options)
    assert "options" not in schemas["QuestionOut"]["required"]
    assert "region" not in schemas["KpiGroup"]["required"]


class EagerApi(Api):
    """flask-smorest's own Api, the error responses documented with the Problem schema's
    class."""

    ERROR_SCHEMA = ProblemSchema


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_service_documents_its_errors_with_one_problem_schema(name):
    """The error responses refer to one Problem schema registered once (a schema class
    per status was 15 % of an app build: issue #15): the document is the one flask-smorest
    makes with the Problem schema's class as ERROR_SCHEMA."""
    spec = ALL[name]
    app = create_app(
        service=name,
        title=spec.title,
        blueprints=spec.blueprints,
        internal_token=TOKEN,
        max_body_bytes=1 << 20,
        public=spec.public,
        token_only_prefixes=spec.token_only_prefixes,
    )
    api = app.extensions["revisit_api"]

    eager = Flask(name)
    eager.config.update(app.config)
    reference = EagerApi(
        eager, spec_kwargs={"extra_plugins": [ContractPlugin(), IdempotencyPlugin()]}
    )
    reference.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in spec.blueprints:
        reference.register_blueprint(blueprint)
    expected = json.loads(json.dumps(reference.spec.to_dict()))

    served = app.test_client().get(f"{API_PREFIX}/openapi.json")
    assert served.status_code == 200
    assert served.get_json() == expected
    assert json.loads(json.dumps(api.spec.to_dict())) == expected
