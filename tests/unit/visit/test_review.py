"""Key-account visit reports are reviewed by a supervisor (DOMAIN.md §6), over the API: the
audit sample holds every completed, unaudited visit of a grade-A customer (the customer
copy's grade) besides the random share of the others, each marked why it is there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.client import Client
from tests.support.visits import plan, register


def _completed(client, customer, trigger):
    visit = plan(client, customer, trigger=trigger)
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert done.status_code == 200
    return done.json["id"]


def _sample(app, query=""):
    response = Client(app, role="auditor").get(f"/api/v1/visits/audit-sample?{query}")
    assert response.status_code == 200
    return response.json


def test_every_key_account_visit_besides_the_random_share(app, client, feed, customer):
    key_account = register(feed, owner="zhao.min", grade="A")
    key_ids = sorted(_completed(client, key_account, f"k{i}") for i in range(3))
    for i in range(10):
        _completed(client, customer, f"b{i}")
    plan(client, key_account, trigger="still-planned")
    body = _sample(app, "seed=3")
    assert (body["population"], body["key_accounts"]) == (13, 3)
    assert body["groups"] == [{"assignee": "li.wei", "population": 10, "sampled": 1}]
    reviews = {v["id"]: v["review"] for v in body["items"]}
    assert sorted(i for i, why in reviews.items() if why == "key_account") == key_ids
    assert list(reviews.values()).count("sample") == 1
    assert _sample(app, "seed=3") == body  # reproducible


def test_the_random_share_of_the_others_is_unchanged(app, client, feed, customer):
    for i in range(10):
        _completed(client, customer, f"b{i}")
    before = _sample(app, "seed=5&share=0.3")
    key_account = register(feed, grade="A")
    _completed(client, key_account, "k0")
    after = _sample(app, "seed=5&share=0.3")
    assert after["groups"] == before["groups"]
    samples = [v for v in after["items"] if v["review"] == "sample"]
    assert samples == [{**v, "review": "sample"} for v in before["items"]]
    assert (after["population"], after["key_accounts"]) == (11, 1)


def test_the_customer_copys_grade_counts(app, client, feed, customer):
    visit_id = _completed(client, customer, "b0")
    assert _sample(app)["items"][0]["review"] == "sample"
    regraded = {
        "customer_id": customer,
        "region": "east",
        "owner": "li.wei",
        "grade": "A",
        "previous_grade": "B",
        "score": 90.0,
        "size_tier": "large",
        "cooperation_tier": "long",
        "graded_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
    }
    assert feed("CustomerGraded", regraded) == "applied"
    body = _sample(app)
    assert [(v["id"], v["review"]) for v in body["items"]] == [(visit_id, "key_account")]
    assert (body["key_accounts"], body["groups"]) == (1, [])


def test_an_audited_key_account_visit_leaves_the_review(app, client, feed):
    key_account = register(feed, grade="A")
    first, second = sorted(_completed(client, key_account, f"k{i}") for i in range(2))
    auditor = Client(app, role="auditor")
    assert auditor.post(f"/api/v1/visits/{first}/audit", {"accurate": True}).status_code == 200
    body = _sample(app)
    assert [(v["id"], v["review"]) for v in body["items"]] == [(second, "key_account")]
    assert (body["population"], body["key_accounts"]) == (1, 1)


def test_the_period_bounds_key_account_visits_too(app, client, feed):
    key_account = register(feed, grade="A")
    _completed(client, key_account, "k0")
    body = _sample(app, "from=2000-01-01&to=2000-01-31")
    assert (body["population"], body["key_accounts"], body["items"]) == (0, 0, [])
