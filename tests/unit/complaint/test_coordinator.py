"""The coordinating department (DOMAIN.md §3, rule 3.6): customer_service follows the
complaints other departments handle, with their ledger, to report progress to the customer;
the steps stay with the handling department."""

from __future__ import annotations

import pytest

from complaint_service.triage import department_sees
from tests.support.complaints import ComplaintClient


@pytest.mark.parametrize(
    ("caller", "department", "coordinator", "handling", "sees"),
    [
        ("product", "product", "customer_service", True, True),
        ("customer_service", "product", "customer_service", False, True),
        ("customer_service", "product", "customer_service", True, False),
        ("sales", "product", "customer_service", False, False),
        ("customer_service", "customer_service", None, True, True),
        ("customer_service", "product", None, False, False),
    ],
)
def test_who_sees_a_complaint(caller, department, coordinator, handling, sees):
    assert department_sees(caller, department, coordinator, handling=handling) is sees


def test_the_coordinator_follows_the_complaints_it_coordinates(app, client):
    handled = client.create()["id"]  # product handles, customer_service coordinates
    own = client.create(department="customer_service")["id"]
    coordinator = ComplaintClient(app, role="department", department="customer_service")
    listed = coordinator.get("/api/v1/complaints")
    assert listed.status_code == 200
    assert sorted(i["id"] for i in listed.json["items"]) == sorted([handled, own])
    product = ComplaintClient(app, role="department", department="product")
    assert product.act(handled, "acknowledge", note="called back").status_code == 200
    shown = coordinator.get(f"/api/v1/complaints/{handled}")
    assert shown.status_code == 200
    assert shown.json["coordinator"] == "customer_service"
    assert [e["note"] for e in shown.json["ledger"]][-1] == "called back"
    assert coordinator.act(handled, "investigate").status_code == 404  # not its step
    assert coordinator.act(own, "acknowledge").status_code == 200
    sales = ComplaintClient(app, role="department", department="sales")
    assert sales.get(f"/api/v1/complaints/{handled}").status_code == 404
    assert sales.get("/api/v1/complaints").json["items"] == []
