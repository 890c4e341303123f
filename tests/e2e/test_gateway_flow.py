"""Issue #2 acceptance through the gateway, standalone in one process (memory bus, SQLite)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.client import ADMIN, Api
from tests.support.polling import wait_until
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER, start_system


@pytest.fixture
def system(tmp_path, unique_prefix):
    system = start_system(
        make_settings(
            data_dir=tmp_path,
            admin_token=ADMIN,
            queue_prefix=unique_prefix,
            max_body_bytes=64 * 1024,
        )
    )
    yield system
    system.close()


@pytest.fixture
def api(system):
    return Api(system).new_tenant()


def test_other_tenants_customer_is_404(api):
    cid = api.post("/customers", CUSTOMER).json["id"]
    other = api.new_tenant("Other")
    r = other.get(f"/customers/{cid}")
    assert r.status_code == 404
    assert r.content_type == "application/problem+json"
    assert other.get("/customers").json["items"] == []
    assert api.get(f"/customers/{cid}").status_code == 200


def test_revoked_key_is_401_at_once(api):
    key = api.new_key("agent")
    agent = api.as_key(key)
    assert agent.get("/customers").status_code == 200
    key_id = [k for k in api.get("/api-keys").json["items"] if k["role"] == "agent"][0]["id"]
    assert api.delete(f"/api-keys/{key_id}").status_code == 204
    r = agent.get("/customers")
    assert r.status_code == 401
    assert r.content_type == "application/problem+json"


def test_viewer_reads_but_cannot_write(api):
    viewer = api.as_key(api.new_key("viewer"))
    assert viewer.get("/customers").status_code == 200
    r = viewer.post("/customers", CUSTOMER)
    assert r.status_code == 403
    assert r.content_type == "application/problem+json"
    cid = api.post("/customers", CUSTOMER).json["id"]
    assert viewer.patch(f"/customers/{cid}", {"name": "x"}).status_code == 403
    assert viewer.get(f"/customers/{cid}").status_code == 200


def test_missing_or_bad_key_is_401(system):
    anonymous = Api(system)
    assert anonymous.get("/customers").status_code == 401
    assert anonymous.as_key("rvk_not-a-key").get("/customers").status_code == 401


def test_bad_input_is_4xx_problem_json(api):
    r = api.post("/customers", data="{oops", content_type="application/json")
    assert r.status_code == 400 and r.content_type == "application/problem+json"
    r = api.post("/customers", {**CUSTOMER, "grade": "A", "type": "pirate"})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert set(r.json["errors"]) == {"grade", "type"}
    r = api.post("/customers", {**CUSTOMER, "business_scope": "x" * (70 * 1024)})
    assert r.status_code == 413 and r.content_type == "application/problem+json"
    r = api.post("/tenants", {"name": "x"})
    assert r.status_code == 401  # a tenant key is not the platform key


def test_request_id_is_echoed(api):
    r = api.post("/customers", CUSTOMER, headers={"X-Request-ID": "client-req-7"})
    assert r.headers["X-Request-ID"] == "client-req-7"
    assert api.get("/customers").headers["X-Request-ID"]


def test_classification_follows_a_settings_change(api):
    cid = api.post("/customers", CUSTOMER).json["id"]
    before = api.get(f"/customers/{cid}").json
    assert before["size_tier"] == "medium"
    r = api.patch("/settings", {"classification": {"large_amount_threshold": 400000}})
    assert r.status_code == 200, r.json
    after = wait_until(
        lambda: (c := api.get(f"/customers/{cid}").json)["size_tier"] == "large" and c,
        timeout=2.0,
    )
    assert after["score"] > before["score"]
    r = api.patch("/settings", {"classification": {"grade_a_min": "lots"}})
    assert r.status_code == 422 and r.content_type == "application/problem+json"


def test_first_purchase_event_flows_to_consumers(api, system):
    cid = api.post("/customers", CUSTOMER).json["id"]
    r = api.post(
        f"/customers/{cid}/purchases",
        {"amount": 1200, "product": "Pump X", "purchased_at": "2026-11-20T09:30:00+08:00"},
    )
    assert r.status_code == 201
    customer_rt = system.runtimes["customer"]
    from revisit_common.messaging.outbox import pending_count

    wait_until(lambda: pending_count(customer_rt.db) == 0, timeout=2.0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(
        st.sampled_from([*CUSTOMER, "contacts", "owner", "overdue_days", "credit_rating", "x"]),
        json_values,
        max_size=8,
    ),
    query=st.dictionaries(
        st.sampled_from(["limit", "cursor", "grade", "type", "q", "risk_level"]),
        st.text(max_size=12),
        max_size=3,
    ),
)
def test_no_input_gives_a_500(api, body, query):
    for r in (
        api.post("/customers", {**CUSTOMER, **body}),
        api.post("/customers", body),
        api.http.get(
            "/api/v1/customers", query_string=query, headers={"Authorization": f"Bearer {api.key}"}
        ),
        api.patch("/settings", {"classification": body}),
    ):
        assert r.status_code < 500, (r.status_code, r.get_data(as_text=True))
        if r.status_code >= 400:
            assert r.content_type == "application/problem+json"
