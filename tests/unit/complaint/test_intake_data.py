"""What the intake records (DOMAIN.md §3, RULES.md 3.2): complainant, contact, customer,
product, description and the time received are read back exactly, Chinese text and the
longest values included; bad values are 422 problem+json and write nothing."""

from __future__ import annotations

import pytest

from tests.support.clock import FakeClock
from tests.support.complaints import COMPLAINT, sh
from tests.support.outbox import envelopes

COMPLAINTS = "/api/v1/complaints"
INTAKE = {
    "complainant": "张三（采购经理）",
    "contact": "+86 138-0013-8000 / zhang.san@例子.中国",
    "product": "离心泵 XJ-200 型",
    "description": "水泵运行两天后停止工作，客户要求更换。",
    "received_at": sh(11, 2, 9, 15).isoformat(),
}


@pytest.fixture
def clock():
    return FakeClock(sh(11, 2, 10))  # Monday 2 November 2026, 10:00 in Shanghai


def read_back(client, complaint_id: str) -> tuple[dict, dict]:
    """The complaint as GET /complaints/{id} and as the list show it."""
    one = client.get(f"{COMPLAINTS}/{complaint_id}")
    assert one.status_code == 200, one.json
    page = client.get(COMPLAINTS)
    assert page.status_code == 200, page.json
    [listed] = [item for item in page.json["items"] if item["id"] == complaint_id]
    return one.json, listed


def test_intake_fields_round_trip_through_get_and_the_list(client):
    body = client.create(**INTAKE)
    for shown in (body, *read_back(client, body["id"])):
        assert {key: shown[key] for key in ("complainant", "contact", "product")} == {
            key: INTAKE[key] for key in ("complainant", "contact", "product")
        }
        assert shown["description"] == INTAKE["description"]
        assert shown["customer_id"] == "cust-1"
        assert shown["received_at"] == "2026-11-02T01:15:00+00:00"


def test_values_of_the_longest_length_are_kept_whole(client):
    longest = {"complainant": "张" * 200, "contact": "联" * 200, "product": "泵" * 200}
    body = client.create(**longest, description="述" * 5000)
    one, listed = read_back(client, body["id"])
    for shown in (one, listed):
        assert {key: shown[key] for key in longest} == longest
        assert shown["description"] == "述" * 5000


def test_complainant_contact_and_product_may_be_left_out_or_null(client):
    left_out = {k: v for k, v in COMPLAINT.items() if k != "complainant"}
    r = client.post(COMPLAINTS, left_out)
    assert r.status_code == 201, r.json
    assert (r.json["complainant"], r.json["contact"], r.json["product"]) == (None, None, None)
    body = client.create(complainant=None, contact=None, product=None)
    one, _ = read_back(client, body["id"])
    assert (one["complainant"], one["contact"], one["product"]) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("complainant", "张" * 201),
        ("contact", "联" * 201),
        ("product", "泵" * 201),
        ("description", "述" * 5001),
        ("complainant", 42),
        ("contact", ["13800138000"]),
        ("product", {"name": "泵"}),
        ("description", None),
        ("customer_id", 7),
    ],
)
def test_bad_values_are_422_problem_json_and_write_nothing(client, runtime, field, value):
    r = client.post(COMPLAINTS, {**COMPLAINT, **INTAKE, field: value})
    assert r.status_code == 422, r.json
    assert r.content_type == "application/problem+json"
    assert list(r.json["errors"]) == [field]
    assert client.get(COMPLAINTS).json["items"] == []
    assert envelopes(runtime) == []
