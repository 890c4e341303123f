"""References across services (CONTRACT §4.1): a customer id that is not the caller's
tenant's → 404; a customer is usable in every route as soon as its 201 has been returned; a
settings change applies to the next request.

The system is built but never started: no relay publishes and no consumer applies, so no
event reaches any service. What passes here passes by the synchronous reads of
``revisit_common.directory`` (and ``settings_catch_up``), not by the events. Once on SQLite
with the in-memory bus, once on PostgreSQL with RabbitMQ.
"""

from __future__ import annotations

import pytest

from revisit_runner.standalone import build, prepare_settings
from tests.support.client import ADMIN, Api
from tests.support.complaints import COMPLAINT
from tests.support.servers import drop_schemas
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER

MODES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]
VISIT = {"reason": "care", "method": "phone"}


@pytest.fixture(params=MODES)
def system(request, tmp_path, unique_prefix):
    servers = {}
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        request.addfinalizer(lambda: drop_schemas(url, f"{unique_prefix}_"))
        servers = {
            "database_url": url,
            "db_schema_prefix": f"{unique_prefix}_",
            "amqp_url": request.getfixturevalue("amqp_url"),
        }
    settings = make_settings(
        data_dir=tmp_path,
        admin_token=ADMIN,
        queue_prefix=unique_prefix,
        environment={"REVISIT_RATE_LIMIT": "off", "REVISIT_RATE_LIMIT_ANONYMOUS": "off"},
        **servers,
    )
    system = build(prepare_settings(settings))  # not started: no relay, no consumer
    yield system
    assert all(not rt.threads for rt in system.runtimes.values())
    system.close()


def complain(api: Api, customer_id: str):
    return api.post("/complaints", {**COMPLAINT, "customer_id": customer_id})


def plan(api: Api, customer_id: str):
    return api.post("/visits", {**VISIT, "customer_id": customer_id})


def assert_no_customer(response):
    assert response.status_code == 404, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["detail"] == "customer not found"


def test_unknown_customer_is_404_on_complaints_and_visits(system):
    api = Api(system).new_tenant()
    assert_no_customer(complain(api, "no-such-customer"))
    assert_no_customer(plan(api, "no-such-customer"))
    assert api.get("/complaints").json["items"] == []
    assert api.get("/visits").json["items"] == []


def test_another_tenants_customer_is_404(system):
    ours, theirs = Api(system).new_tenant("Ours"), Api(system).new_tenant("Theirs")
    created = theirs.post("/customers", CUSTOMER)
    assert created.status_code == 201, created.json
    assert_no_customer(complain(ours, created.json["id"]))
    assert_no_customer(plan(ours, created.json["id"]))
    assert complain(theirs, created.json["id"]).status_code == 201  # theirs, it is usable


def test_a_customer_is_usable_in_every_route_right_after_its_201(system):
    api = Api(system).new_tenant()
    created = api.post("/customers", {**CUSTOMER, "region": "north"})
    assert created.status_code == 201, created.json
    customer_id = created.json["id"]
    complaint = complain(api, customer_id)
    assert complaint.status_code == 201, complaint.json
    assert complaint.json["region"] == "north"  # from the customer service's answer
    visit = plan(api, customer_id)
    assert visit.status_code == 201, visit.json
    assert visit.json["customer_id"] == customer_id
    again = complain(api, customer_id)  # now from the copy kept in the first transaction
    assert again.status_code == 201 and again.json["region"] == "north"


def test_a_settings_change_applies_to_the_next_complaint(system):
    api = Api(system).new_tenant()
    customer_id = api.post("/customers", CUSTOMER).json["id"]
    before = complain(api, customer_id)
    assert before.status_code == 201, before.json
    changed = api.patch("/settings", {"complaints": {"general_resolve_working_days": 1}})
    assert changed.status_code == 200, changed.json
    after = complain(api, customer_id)
    assert after.status_code == 201, after.json
    assert after.json["deadlines"]["resolve_by"] < before.json["deadlines"]["resolve_by"]
    # the default is 5 working days: 1 day is at most 3 calendar days (over a weekend) later
    received = after.json["received_at"][:10]
    assert after.json["deadlines"]["resolve_by"][:10] <= _plus_days(received, 3)


def _plus_days(day: str, days: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()
