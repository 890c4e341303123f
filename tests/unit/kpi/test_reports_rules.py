"""The reports without a database: root causes beside the previous period, visit summary."""

from __future__ import annotations

from datetime import date

import pytest

from kpi_service import reports

TZ = "Asia/Shanghai"
JAN = (date(2026, 1, 1), date(2026, 1, 31))
DEC = (date(2025, 12, 1), date(2025, 12, 31))


def complaint(received, category="quality", department="product"):
    fields = {"received_at": received, "category": category, "department": department}
    return ("complaint", {"fields": fields})


def issue(raised, category="technical", department="product", region="east"):
    fields = {"raised_at": raised, "category": category, "department": department}
    return ("issue", {"fields": {**fields, "region": region}})


def visit(due, region="east", satisfaction=None, score=None, completed=True, **said):
    fields = {"customer_id": "c", "due_date": due, "region": region}
    if completed:
        fields.update(completed_at=f"{due}T04:00:00+00:00", satisfaction=satisfaction)
        fields["recommend_score"] = score
    return ("visit", {"fields": {**fields, **said}})


def purchase(at, customer, region="east"):
    fields = {"purchased_at": at, "customer_id": customer, "region": region}
    return ("purchase", {"fields": fields})


def test_root_causes_by_category_and_department_beside_the_previous_period():
    facts = [
        complaint("2026-01-05T02:00:00Z"),
        complaint("2026-01-06T02:00:00Z"),
        complaint("2026-01-07T02:00:00Z", "delivery", "logistics"),
        complaint("2025-12-05T02:00:00Z"),
        complaint("2025-12-06T02:00:00Z", "price", "sales"),
        complaint("2025-12-31T17:00:00Z", "price", "sales"),  # Jan 1 in Shanghai
        complaint("2025-11-30T02:00:00Z", "billing", "finance"),  # before both periods
        issue("2026-01-09T02:00:00Z"),
        issue("2025-12-09T02:00:00Z", "service", "sales"),
    ]
    got = reports.root_causes(facts, TZ, JAN, DEC)
    row = ("category", "department", "count", "previous", "change")
    assert [tuple(r[k] for k in row) for r in got["complaints"]] == [
        ("quality", "product", 2, 1, 1),
        ("delivery", "logistics", 1, 0, 1),
        ("price", "sales", 1, 1, 0),
    ]
    assert [tuple(r[k] for k in row) for r in got["issues"]] == [
        ("technical", "product", 1, 0, 1),
        ("service", "sales", 0, 1, -1),
    ]


def test_root_causes_with_nothing_and_without_a_previous_period():
    assert reports.root_causes([], TZ, JAN, None) == {"complaints": [], "issues": []}
    got = reports.root_causes([complaint("2026-01-05T02:00:00Z", None, None)], TZ, JAN, None)
    assert got["complaints"] == [
        {"category": None, "department": None, "count": 1, "previous": 0, "change": 1}
    ]


def test_visit_summary_and_by_region():
    facts = [
        visit("2026-01-05", "east", "very_satisfied", 10),
        visit("2026-01-06", "east", "neutral", 5),
        visit("2026-01-07", "west", "satisfied", 8),
        visit("2026-01-08", "west", completed=False),  # due, not done: nothing rated
        visit("2025-12-08", "west", "very_dissatisfied", 0),  # another period
        purchase("2026-01-03T02:00:00Z", "c1"),
        purchase("2026-01-04T02:00:00Z", "c1"),
        purchase("2026-01-05T02:00:00Z", "c2", "west"),
        purchase("2025-12-05T02:00:00Z", "c2", "west"),  # another period
        issue("2026-01-09T02:00:00Z", "technical"),
        issue("2026-01-10T02:00:00Z", "technical", region="west"),
        issue("2026-01-11T02:00:00Z", "service"),
    ]
    got = reports.visit_summary(facts, TZ, JAN)
    assert got["satisfaction"] == {
        "levels": {
            "very_satisfied": 1,
            "satisfied": 1,
            "neutral": 1,
            "dissatisfied": 0,
            "very_dissatisfied": 0,
        },
        "rated": 3,
        "satisfied": 2,
        "rate": 2 / 3,
    }
    assert got["repurchase"] == {"customers": 2, "repeat_customers": 1, "share": 0.5}
    assert got["nps"] == {"score": 0.0, "responses": 3, "promoters": 1, "detractors": 1}
    assert got["issues"] == [
        {"category": "technical", "count": 2},
        {"category": "service", "count": 1},
    ]
    east, west = got["by_region"]
    assert east["region"] == "east" and west["region"] == "west"
    assert east["repurchase"]["share"] == 1.0
    assert west["repurchase"] == {"customers": 1, "repeat_customers": 0, "share": 0.0}
    assert west["nps"]["score"] == 0.0  # one passive (8)
    assert west["satisfaction"]["rate"] == 1.0
    assert east["issues"] == [
        {"category": "service", "count": 1},
        {"category": "technical", "count": 1},
    ]


def test_an_empty_summary_has_nulls_not_zeros():
    got = reports.visit_summary([], TZ, JAN)
    assert got["satisfaction"]["rate"] is None
    assert got["repurchase"]["share"] is None
    assert got["nps"]["score"] is None
    assert got["by_region"] == [] and got["issues"] == []
    assert got["needs"] == [] and got["competitors"] == [] and got["suggestions"] == []


@pytest.mark.parametrize(
    ("said", "listed", "other"),
    [("needs", "needs", "suggestions"), ("service_feedback", "suggestions", "needs")],
)
def test_texts_folded_and_counted_by_region(said, listed, other):
    facts = [
        visit("2026-01-05", "east", **{said: "  Faster   DELIVERY "}),
        visit("2026-01-06", "east", **{said: "faster delivery"}),
        visit("2026-01-07", "west", **{said: "Faster delivery\n"}),
        visit("2026-01-08", "west", **{said: "更多培训"}),
        visit("2026-01-09", "west", **{said: "   "}),  # nothing said
        visit("2026-01-10", "west", **{said: None}),
        visit("2026-01-11", "west", **{said: 7}),  # not text
        visit("2026-01-12", "west"),  # an older producer: no field
        visit("2026-01-13", "west", completed=False, **{said: "not a completed visit"}),
        visit("2025-12-11", "west", **{said: "faster delivery"}),  # another period
    ]
    got = reports.visit_summary(facts, TZ, JAN)
    assert got[listed] == [
        {"text": "faster delivery", "count": 3},
        {"text": "更多培训", "count": 1},
    ]
    assert got[other] == []  # needs are not suggestions, nor the other way round
    east, west = got["by_region"]
    assert east[listed] == [{"text": "faster delivery", "count": 2}]
    assert west[listed] == [
        {"text": "faster delivery", "count": 1},
        {"text": "更多培训", "count": 1},
    ]


def test_competitors_counted_per_product_once_per_visit():
    def info(*products, **rest):
        return {"products": list(products), **rest}

    facts = [
        visit("2026-01-05", "east", competitor_info=info("Acme X1", "acme  x1", "Bolt")),
        visit("2026-01-06", "west", competitor_info=info("ACME X1", strengths="price")),
        visit("2026-01-07", "west", competitor_info={"strengths": "price"}),  # no product
        visit("2026-01-08", "west", competitor_info=None),
        visit("2026-01-09", "west", competitor_info={"products": "not a list"}),
        visit("2026-01-10", "west", competitor_info=info(" ", 7)),  # nothing usable
    ]
    got = reports.visit_summary(facts, TZ, JAN)
    assert got["competitors"] == [{"name": "acme x1", "count": 2}, {"name": "bolt", "count": 1}]
    east, west = got["by_region"]
    assert east["competitors"] == [{"name": "acme x1", "count": 1}, {"name": "bolt", "count": 1}]
    assert west["competitors"] == [{"name": "acme x1", "count": 1}]


def test_needs_and_competitors_keep_the_twenty_most_frequent():
    facts = [
        visit(
            f"2026-01-{day:02d}",
            needs=f"need {n}",
            competitor_info={"products": [f"p{n}"]},
            service_feedback=f"idea {n}",
        )
        for n in range(25)
        for day in range(1, 2 + n % 3)  # needs 0, 3, 6, ... said once; 1, 4, ... twice; ...
    ]
    got = reports.visit_summary(facts, TZ, JAN)
    assert len(got["needs"]) == len(got["competitors"]) == reports.TOP == 20
    counts = [row["count"] for row in got["needs"]]
    assert counts == sorted(counts, reverse=True) and counts[0] == 3
    assert {"text": "need 2", "count": 3} in got["needs"]
    assert got["needs"][:2] == [{"text": "need 11", "count": 3}, {"text": "need 14", "count": 3}]
    assert len(got["suggestions"]) == reports.TOP
    assert got["suggestions"][:2] == [
        {"text": "idea 11", "count": 3},
        {"text": "idea 14", "count": 3},
    ]
