"""ContactDatesChanged: a contact's birthday or anniversary set, changed or removed, or the
decision-maker flag of a contact with either changed."""

from __future__ import annotations

from tests.support.customers import ACME
from tests.support.outbox import events_of

ZHANG = ACME["contacts"][0]  # birthday 1980-05-02
LI = {"name": "Li Si", "title": "CEO", "anniversary": "2010-09-01"}
WANG = {"name": "Wang Wu", "phone": "123"}


def dates_events(runtime) -> list[dict]:
    return [e["data"] for e in events_of(runtime, "ContactDatesChanged")]


def test_contacts_created_with_dates_are_published(client, runtime):
    body = {**ACME, "contacts": [ZHANG, LI, WANG]}
    customer = client.post("/api/v1/customers", body).json
    zhang, li, _ = customer["contacts"]
    assert dates_events(runtime) == [
        {
            "contact_id": zhang["id"],
            "customer_id": customer["id"],
            "region": "east",
            "owner": "li.wei",
            "grade": customer["grade"],
            "name": "Zhang San",
            "birthday": "1980-05-02",
            "anniversary": None,
            "changed_at": customer["created_at"],
            "decision_maker": True,
        },
        {
            "contact_id": li["id"],
            "customer_id": customer["id"],
            "region": "east",
            "owner": "li.wei",
            "grade": customer["grade"],
            "name": "Li Si",
            "birthday": None,
            "anniversary": "2010-09-01",
            "changed_at": customer["created_at"],
            "decision_maker": False,
        },
    ]
    [event] = events_of(runtime, "ContactDatesChanged")[:1]
    assert event["subject"] == zhang["id"]
    assert event["routing_key"] == "customer.contact_dates_changed"


def test_a_customer_without_dates_publishes_none(client, runtime):
    client.post("/api/v1/customers", {**ACME, "contacts": [WANG]})
    client.post("/api/v1/customers", {**ACME, "contacts": []})
    assert dates_events(runtime) == []


def test_a_contact_keeps_its_id_and_only_date_changes_are_published(client, runtime):
    customer = client.post("/api/v1/customers", {**ACME, "contacts": [ZHANG, WANG]}).json
    cid, zhang_id = customer["id"], customer["contacts"][0]["id"]
    path = f"/api/v1/customers/{cid}"
    # other fields of the contact change, and the list order: no date changed
    r = client.patch(path, {"contacts": [WANG, {**ZHANG, "phone": "555"}]})
    assert r.status_code == 200
    assert r.json["contacts"][1] == {**r.json["contacts"][1], "id": zhang_id, "phone": "555"}
    assert len(dates_events(runtime)) == 1
    # a customer field changes, the contacts are not given: nothing
    client.patch(path, {"overdue_days": 3})
    assert len(dates_events(runtime)) == 1
    # the birthday moves
    client.patch(path, {"contacts": [{**ZHANG, "birthday": "1980-06-02"}, WANG]})
    moved = dates_events(runtime)[-1]
    assert (moved["contact_id"], moved["birthday"], moved["anniversary"]) == (
        zhang_id,
        "1980-06-02",
        None,
    )
    # an anniversary is added to a contact that had none
    r = client.patch(
        path,
        {"contacts": [{**ZHANG, "birthday": "1980-06-02"}, {**WANG, "anniversary": "2020-02-29"}]},
    )
    wang_id = r.json["contacts"][1]["id"]
    added = dates_events(runtime)[-1]
    assert (added["contact_id"], added["name"], added["anniversary"]) == (
        wang_id,
        "Wang Wu",
        "2020-02-29",
    )
    assert len(dates_events(runtime)) == 3


def test_removing_a_contact_or_its_dates_publishes_none(client, runtime):
    customer = client.post("/api/v1/customers", {**ACME, "contacts": [ZHANG, LI, WANG]}).json
    zhang, li, wang = (c["id"] for c in customer["contacts"])
    path = f"/api/v1/customers/{customer['id']}"
    r = client.patch(path, {"contacts": [{**ZHANG, "birthday": None}, WANG]})
    assert [c["id"] for c in r.json["contacts"]] == [zhang, wang]
    cleared = dates_events(runtime)[2:]
    assert [(e["contact_id"], e["birthday"], e["anniversary"]) for e in cleared] == [
        (zhang, None, None),
        (li, None, None),
    ]
    # removing a contact that has no dates publishes nothing
    client.patch(path, {"contacts": []})
    assert len(dates_events(runtime)) == 4


def test_a_renamed_contact_is_a_new_one(client, runtime):
    customer = client.post("/api/v1/customers", ACME).json
    old_id = customer["contacts"][0]["id"]
    r = client.patch(
        f"/api/v1/customers/{customer['id']}", {"contacts": [{**ZHANG, "name": "Zhang San Jr"}]}
    )
    new_id = r.json["contacts"][0]["id"]
    assert new_id != old_id
    changes = [(e["contact_id"], e["birthday"]) for e in dates_events(runtime)[1:]]
    assert changes == [(new_id, "1980-05-02"), (old_id, None)]


def test_same_named_contacts_pair_in_order(client, runtime):
    twins = [{"name": "Chen", "birthday": "1990-01-01"}, {"name": "Chen", "birthday": "1991-01-01"}]
    customer = client.post("/api/v1/customers", {**ACME, "contacts": twins}).json
    first, second = (c["id"] for c in customer["contacts"])
    r = client.patch(f"/api/v1/customers/{customer['id']}", {"contacts": twins[:1]})
    assert [c["id"] for c in r.json["contacts"]] == [first]
    [removed] = dates_events(runtime)[2:]
    assert (removed["contact_id"], removed["birthday"]) == (second, None)


def test_invalid_contacts_write_nothing(client, runtime):
    customer = client.post("/api/v1/customers", ACME).json
    r = client.patch(
        f"/api/v1/customers/{customer['id']}", {"contacts": [{**ZHANG, "birthday": "1980-02-30"}]}
    )
    assert r.status_code == 422
    assert (
        client.get(f"/api/v1/customers/{customer['id']}").json["contacts"] == customer["contacts"]
    )
    assert len(dates_events(runtime)) == 1


def test_the_event_carries_the_decision_maker_flag_as_written_or_as_it_was(client, runtime):
    customer = client.post("/api/v1/customers", {**ACME, "contacts": [ZHANG, LI]}).json
    path = f"/api/v1/customers/{customer['id']}"
    client.patch(path, {"contacts": [{**ZHANG, "birthday": "1980-06-02"}, LI]})
    client.patch(path, {"contacts": [{**LI, "decision_maker": True, "anniversary": "2011-09-01"}]})
    flags = [(e["name"], e["birthday"], e["decision_maker"]) for e in dates_events(runtime)]
    assert flags == [
        ("Zhang San", "1980-05-02", True),
        ("Li Si", None, False),
        ("Zhang San", "1980-06-02", True),
        ("Li Si", None, True),
        ("Zhang San", None, True),  # removed: the flag it had
    ]


def test_a_flag_change_publishes_only_for_a_contact_with_dates(client, runtime):
    customer = client.post("/api/v1/customers", {**ACME, "contacts": [ZHANG, LI, WANG]}).json
    zhang, li, wang = (c["id"] for c in customer["contacts"])
    path = f"/api/v1/customers/{customer['id']}"
    assert len(dates_events(runtime)) == 2
    # Zhang (birthday) stops being a decision maker, Wang (no dates) becomes one
    r = client.patch(
        path,
        {"contacts": [{**ZHANG, "decision_maker": False}, LI, {**WANG, "decision_maker": True}]},
    )
    assert r.status_code == 200
    assert [(c["id"], c["decision_maker"]) for c in r.json["contacts"]] == [
        (zhang, False),
        (li, False),
        (wang, True),
    ]
    [stopped] = dates_events(runtime)[2:]
    assert stopped == {
        "contact_id": zhang,
        "customer_id": customer["id"],
        "region": "east",
        "owner": "li.wei",
        "grade": r.json["grade"],
        "name": "Zhang San",
        "birthday": "1980-05-02",
        "anniversary": None,
        "changed_at": r.json["updated_at"],
        "decision_maker": False,
    }
    # Li (anniversary) becomes one: published with the new flag; Wang stops: nothing
    client.patch(
        path,
        {"contacts": [{**ZHANG, "decision_maker": False}, {**LI, "decision_maker": True}, WANG]},
    )
    [started] = dates_events(runtime)[3:]
    assert (started["contact_id"], started["anniversary"], started["decision_maker"]) == (
        li,
        "2010-09-01",
        True,
    )
    # the same flags again: nothing
    client.patch(
        path,
        {"contacts": [{**ZHANG, "decision_maker": False}, {**LI, "decision_maker": True}, WANG]},
    )
    assert len(dates_events(runtime)) == 4
