"""The fact state as stored: each version once (``stamps``), fields naming theirs by index;
states stored before that (a full version per field) are still read, and written in the
new form only when an event changes them. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from kpi_service import domain, projection
from kpi_service.domain import Observed
from kpi_service.models import facts
from tests.support.kpi.periods import monthly_rows, rolled_up, scenario
from tests.support.kpi.stores import BACKENDS, one_store

from .test_domain import VISIT

SCHEDULED = Observed("VisitScheduled", "e-1", "2026-03-01T00:00:00Z", VISIT)
COMPLETED = Observed(
    "VisitCompleted",
    "e-2",
    "2026-03-09T00:00:00Z",
    {**VISIT, "completed_at": "2026-03-09T10:00:00+08:00", "on_time": True},
)


def full_versions(state: dict) -> dict:
    """``state`` as it was stored before stamps: every field's version in full."""
    fields, versions = domain.decode_state(state)
    return {"fields": fields, "versions": {name: list(v) for name, v in versions.items()}}


def merged(*events: Observed) -> dict:
    state: dict = {}
    for event in events:
        state = domain.merge(state, event, domain.target(event)[0])
    return state


def test_each_version_is_stored_once():
    state = merged(SCHEDULED, COMPLETED)
    assert state["stamps"] == [
        [0, "2026-03-01T00:00:00.000000+00:00", "e-1"],
        [2, "2026-03-09T02:00:00.000000+00:00", "e-2"],
    ]
    assert state["versions"]["completed_at"] == 1
    assert state["versions"]["customer_id"] == 1  # restated by the completion
    assert state["versions"]["first_reason"] == 0  # kept from the lowest version
    assert state["fields"]["on_time"] is True
    assert len(json.dumps(state)) < len(json.dumps(full_versions(state))) * 2 // 3


def test_a_state_stored_before_stamps_reads_and_merges_the_same():
    old = full_versions(merged(SCHEDULED))
    assert domain.decode_state(old) == domain.decode_state(merged(SCHEDULED))
    assert domain.merge(old, COMPLETED, domain.target(COMPLETED)[0]) == merged(SCHEDULED, COMPLETED)
    # an older event arriving late changes nothing, in either form
    late = domain.merge(full_versions(merged(COMPLETED)), SCHEDULED, domain.target(SCHEDULED)[0])
    assert late == merged(COMPLETED, SCHEDULED) == merged(SCHEDULED, COMPLETED)


def test_merge_all_rewrites_a_stored_state_only_when_an_event_changes_it():
    key = ("t", "visit", "v1")
    stored = {key: full_versions(merged(SCHEDULED, COMPLETED))}
    kept = dict(stored)
    assert domain.merge_all(stored, domain.targets([("t", SCHEDULED)])) == {}
    assert stored == kept  # not changed in place
    stored = {key: full_versions(merged(SCHEDULED))}
    changed = domain.merge_all(stored, domain.targets([("t", COMPLETED)]))
    assert changed == {key: merged(SCHEDULED, COMPLETED)}
    assert "stamps" in changed[key]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request


def test_a_store_of_states_written_before_stamps_goes_on_as_one_fed_from_scratch(backend, tmp_path):
    stream = scenario(seed=3, visits=60)
    half = len(stream) // 2
    with (
        one_store(backend, tmp_path, "before") as before,
        one_store(backend, tmp_path, "fresh") as fresh,
    ):
        feed_events(before, stream[:half])
        with before.transaction() as session:  # every fact as an older version wrote it
            rows = session.execute(
                sa.select(facts.c.tenant_id, facts.c.kind, facts.c.entity_id, facts.c.state)
            ).all()
            assert rows and all("stamps" in row.state for row in rows)
            session.execute(
                facts.update()
                .where(
                    facts.c.tenant_id == sa.bindparam("t"),
                    facts.c.kind == sa.bindparam("k"),
                    facts.c.entity_id == sa.bindparam("e"),
                )
                .values(state=sa.bindparam("s")),
                [
                    {"t": r.tenant_id, "k": r.kind, "e": r.entity_id, "s": full_versions(r.state)}
                    for r in rows
                ],
            )
        feed_events(before, stream[half:])
        feed_events(fresh, stream)
        old, new = fact_rows(before), fact_rows(fresh)
        assert {key: decoded for key, (decoded, _, _) in old.items()} == {
            key: decoded for key, (decoded, _, _) in new.items()
        }
        assert {key: rest for key, (_, rest, _) in old.items()} == {
            key: rest for key, (_, rest, _) in new.items()
        }
        forms = {compact for _, _, compact in old.values()}
        assert forms == {True, False}  # the facts the second half changed, and the others
        assert monthly_rows(before) == monthly_rows(fresh) == rolled_up(before)


def feed_events(db, events) -> None:
    for start in range(0, len(events), 50):
        with db.transaction() as session:
            projection.record(session, events[start : start + 50])


def fact_rows(db) -> dict:
    """key -> (decoded state, (applied, day, limit_day), whether stored with stamps)."""
    with db.read() as session:
        rows = session.execute(sa.select(facts)).mappings().all()
    return {
        (r["tenant_id"], r["kind"], r["entity_id"]): (
            domain.decode_state(r["state"]),
            (r["applied"], r["day"], r["limit_day"]),
            "stamps" in r["state"],
        )
        for r in rows
    }
