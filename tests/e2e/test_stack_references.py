"""CONTRACT §4.1 References over the native stack (one process per role, real RabbitMQ
and PostgreSQL): a customer is usable right after its 201 and a settings change applies to
the next request, each tried once, with no retry and no wait; unknown ids are 404."""

from __future__ import annotations

import pytest

from tests.support.client import Api
from tests.support.complaints import COMPLAINT
from tests.support.system import CUSTOMER

pytestmark = pytest.mark.services


def test_fresh_customer_and_settings_apply_to_the_next_request(stack):
    api = Api(stack).new_tenant("Read your writes")
    for round_ in range(3):  # each round: a customer created, then used at once
        created = api.post("/customers", {**CUSTOMER, "region": f"r{round_}"})
        assert created.status_code == 201, created.json
        customer_id = created.json["id"]
        complaint = api.post("/complaints", {**COMPLAINT, "customer_id": customer_id})
        assert complaint.status_code == 201, complaint.json
        assert complaint.json["region"] == f"r{round_}"
        visit = api.post("/visits", {"customer_id": customer_id, "reason": "care"})
        assert visit.status_code == 201, visit.json

    missing = api.post("/complaints", {**COMPLAINT, "customer_id": "no-such-customer"})
    assert missing.status_code == 404 and missing.json["detail"] == "customer not found"
    other = Api(stack).new_tenant("Someone else")
    foreign = other.post("/visits", {"customer_id": customer_id, "reason": "care"})
    assert foreign.status_code == 404 and foreign.json["detail"] == "customer not found"

    before = complaint.json["deadlines"]["resolve_by"]
    for days in (1, 10, 2):  # each change is seen by the very next complaint
        changed = api.patch("/settings", {"complaints": {"general_resolve_working_days": days}})
        assert changed.status_code == 200, changed.json
        after = api.post("/complaints", {**COMPLAINT, "customer_id": customer_id})
        assert after.status_code == 201, after.json
        resolve_by = after.json["deadlines"]["resolve_by"]
        assert (resolve_by < before) if days < 5 else (resolve_by > before), (days, resolve_by)
