"""The gateway's /api/v1/openapi.json describes the whole API."""

from __future__ import annotations

from gateway_service.openapi import merge_specs
from gateway_service.proxy import ForwardRequest, ForwardResponse, InProcessTransport
from tests.support.gateway import customer_service_app, echo_app


def test_merged_spec_has_gateway_and_service_paths(gateway):
    resp = gateway.client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path in (
        "/api/v1/tenants",
        "/api/v1/tenants/current",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{key_id}",
        "/api/v1/settings",
        "/api/v1/customers",  # from the (fake) customer service
    ):
        assert path in paths, path
    assert set(paths["/api/v1/settings"]) >= {"get", "patch"}
    assert set(paths["/api/v1/customers"]) >= {"get", "post"}
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearer": []}]
    schemas = doc["components"]["schemas"]
    assert {"ApiKeyIn", "SettingsPatch", "TenantIn", "CustomerIn"} <= set(schemas)
    # every $ref resolves inside the document
    for ref in _refs(doc):
        kind, name = ref.split("/")[2:4]
        assert name in doc["components"][kind], ref


def test_spec_is_cached(make_gateway):
    calls = []
    backend = customer_service_app()

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return backend(environ, start_response)

    gw = make_gateway({"customer": InProcessTransport(counting)})
    assert gw.client.get("/api/v1/openapi.json").status_code == 200
    assert gw.client.get("/api/v1/openapi.json").status_code == 200
    assert calls == ["/api/v1/openapi.json"]


def test_a_service_without_a_spec_is_left_out(make_gateway):
    class Down:
        def send(self, req: ForwardRequest) -> ForwardResponse:
            raise OSError("down")

    gw = make_gateway({"complaint": echo_app_transport(), "kpi": Down()})
    doc = gw.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/settings" in doc["paths"]
    assert not any(p.startswith("/api/v1/kpis") for p in doc["paths"])


def echo_app_transport():
    return InProcessTransport(echo_app("complaint"))


def test_merge_renames_conflicting_components_and_filters_paths():
    own = {
        "openapi": "3.1.0",
        "info": {"title": "gw", "version": "v1"},
        "paths": {"/api/v1/settings": {"get": {"responses": {}}}},
        "components": {"schemas": {"Item": {"type": "string"}, "Problem": {"type": "object"}}},
    }
    visit = {
        "paths": {
            "/api/v1/visits": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Item"}
                                }
                            }
                        }
                    }
                }
            },
            "/api/v1/customers": {"get": {"responses": {}}},  # not visit's: left out
        },
        "components": {"schemas": {"Item": {"type": "integer"}, "Problem": {"type": "object"}}},
        "tags": [{"name": "visits"}],
    }
    survey = {
        "paths": {"/api/v1/survey-responses/{token}": {"post": {"responses": {}}}},
        "components": {},
    }
    doc = merge_specs(own, {"visit": visit, "survey": survey})
    assert set(doc["paths"]) == {
        "/api/v1/settings",
        "/api/v1/visits",
        "/api/v1/survey-responses/{token}",
    }
    schemas = doc["components"]["schemas"]
    assert schemas["Item"] == {"type": "string"}
    assert schemas["VisitItem"] == {"type": "integer"}
    assert "VisitProblem" not in schemas  # identical: shared
    ref = doc["paths"]["/api/v1/visits"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    assert ref == "#/components/schemas/VisitItem"
    assert doc["paths"]["/api/v1/survey-responses/{token}"]["post"]["security"] == []
    assert "security" not in doc["paths"]["/api/v1/visits"]["get"]
    assert doc["tags"] == [{"name": "visits"}]
    assert own["components"]["schemas"] == {
        "Item": {"type": "string"},
        "Problem": {"type": "object"},
    }


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
