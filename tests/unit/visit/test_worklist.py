"""Work lists: GET /visits?assignee=me&due_from=&due_to=&sort= (CONTRACT §4.3)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revisit_common.identity import STAFF_HEADER
from revisit_common.paging import encode_cursor
from tests.support.paging import every_item
from tests.support.visits import plan

ME = {STAFF_HEADER: "wang.fang"}
DUES = ["2026-12-10", "2026-12-08", "2026-12-10", "2026-12-01", "2026-12-31", "2026-12-08"]


@pytest.fixture
def visits(client, customer):
    """Six visits of wang.fang on the due dates of DUES, and two of li.wei."""
    mine = [
        plan(client, customer, assignee="wang.fang", due_date=due, trigger=f"t{n}")["id"]
        for n, due in enumerate(DUES)
    ]
    for n in range(2):
        plan(client, customer, assignee="li.wei", due_date="2026-12-09", trigger=f"o{n}")
    return mine


def listed(client, limit=50, **query) -> list[dict]:
    items, cursor = [], None
    while True:
        page = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/v1/visits", query_string=page, headers=ME)
        assert r.status_code == 200, r.json
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items


def test_assignee_me_is_the_calling_person(client, visits):
    items = listed(client, assignee="me")
    assert [v["id"] for v in items] == sorted(visits)  # oldest first, as before
    assert {v["assignee"] for v in items} == {"wang.fang"}


def test_assignee_me_for_a_key_of_nobody_is_422(client, visits):
    r = client.get("/api/v1/visits?assignee=me")
    assert (r.status_code, r.content_type) == (422, "application/problem+json")
    assert list(r.json["errors"]) == ["assignee"]
    assert client.get("/api/v1/visits/export?assignee=me").status_code == 422


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_sorted_by_due_date_over_pages(client, visits, limit):
    items = listed(client, limit, assignee="me", sort="due_date")
    want = sorted(zip(DUES, visits, strict=True))
    assert [(v["due_date"], v["id"]) for v in items] == want
    items = listed(client, limit, assignee="me", sort="-due_date")
    assert [(v["due_date"], v["id"]) for v in items] == want[::-1]


def test_due_range_with_sort_and_assignee(client, visits):
    items = listed(client, 2, assignee="me", due_from="2026-12-08", due_to="2026-12-10",
                   sort="due_date")  # fmt: skip
    assert [v["due_date"] for v in items] == [
        "2026-12-08",
        "2026-12-08",
        "2026-12-10",
        "2026-12-10",
    ]
    # an explicit assignee and no sort: the old behaviour
    others = every_item(client, "/api/v1/visits", 1, assignee="li.wei")
    assert [v["assignee"] for v in others] == ["li.wei", "li.wei"]


def test_bad_sort_and_cursors_are_422(client, visits):
    assert client.get("/api/v1/visits?sort=name").status_code == 422
    id_cursor = client.get("/api/v1/visits?limit=1").json["next_cursor"]
    for cursor in (id_cursor, encode_cursor("2026-13-01|x"), encode_cursor("2026-12-01|")):
        r = client.get("/api/v1/visits", query_string={"sort": "due_date", "cursor": cursor})
        assert (r.status_code, r.content_type) == (422, "application/problem+json"), cursor


def test_the_work_list_index_exists(runtime):
    indexes = sa.inspect(runtime.db.engine).get_indexes("visits")
    [index] = [i for i in indexes if i["name"] == "ix_visits_tenant_assignee_due"]
    assert index["column_names"] == ["tenant_id", "assignee", "due_date", "id"]
