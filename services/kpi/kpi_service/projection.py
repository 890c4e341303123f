"""The KPI projection: events into facts and aggregates, for live consumption and rebuilds.

One path for both: the consumer's handlers call :func:`record` with one event or a batch
(which logs them too), rebuild.py calls :func:`project` with the logged events. The rules
(domain.py) decide which fact each event feeds, the merged facts, and the counts to move;
the store (store.py) reads and writes the rows, a few statements for a whole run of events.

A run's facts are read and locked at once (in key order) with their tenants' time zones, the
events merged in memory in order, then each changed fact written once and its move from the
contribution it had to the one it ends with summed per bucket into one upsert per aggregate.
A settings event is a barrier between runs: it may change the tenant's time zone, and then
every fact of the tenant is derived again (its day may move); competing consumers take
per-tenant locks first for that (tenant_locks.py). The inbox makes a redelivered
event a no-op; the merge (order-independent, idempotent) makes a repeated or late one
harmless anyway. Types no figure uses are logged only, so a later rebuild can use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.db import utcnow
from revisit_common.messaging.envelope import Envelope

from . import customer_periods, domain, store, tenant_locks
from .domain import Contribution, Key

SETTINGS_EVENTS = frozenset({"TenantRegistered", "TenantSettingsChanged"})


def record(session: Session, envelopes: Sequence[Envelope]) -> None:
    """Consumed events (a consumer batch, or one): into the event log (with the first run's
    reads), then into the facts and aggregates as :func:`project`, with every fact they
    feed locked first (competing consumers, tenant_locks.py)."""
    project(session, envelopes, log=envelopes, lock_facts=True)


def project(
    session: Session,
    envelopes: Iterable[Envelope],
    log: Sequence[Envelope] = (),
    *,
    lock_facts: bool = False,
) -> None:
    """Apply ``envelopes`` in order to the facts and aggregates, in runs between settings
    events; ``log`` is logged with the first run. ``lock_facts``: take an advisory lock on
    each fact fed, all at once after the tenants' (a consumer's batch; not a rebuild's
    replay, whose one transaction would take one per fact of the store)."""
    envelopes, log = list(envelopes), list(log)
    runs: list[tuple[list, Envelope | None]] = []
    run: list[Envelope] = []
    for envelope in envelopes:
        if envelope.type in SETTINGS_EVENTS:
            runs.append((_targets(run), envelope))
            run = []
        else:
            run.append(envelope)
    runs.append((_targets(run), None))
    facts = (key for items, _ in runs for key, _, _ in items) if lock_facts else ()
    tenant_locks.lock(session, _tenants(envelopes), facts)
    for items, settings in runs:
        _apply(session, items, log)
        log = []
        if settings is not None:
            _settings(session, settings)


def _targets(envelopes: list[Envelope]) -> list:
    """The (fact key, event, rule) of each of ``envelopes`` a figure uses (domain.targets)."""
    return domain.targets(
        (e.tenantid, domain.Observed(e.type, e.id, e.time, e.data)) for e in envelopes
    )


def _tenants(envelopes: list[Envelope]) -> dict[str, bool]:
    """The tenants of ``envelopes``: True for those whose settings change among them."""
    out: dict[str, bool] = {}
    for envelope in envelopes:
        settings = envelope.type in SETTINGS_EVENTS
        out[envelope.tenantid] = out.get(envelope.tenantid, False) or settings
    return out


def _apply(session: Session, items: list, log: list[Envelope]) -> None:
    """A run of events (no settings event among them), as :func:`_targets` gives them."""
    if not items and not log:
        return
    now = utcnow()
    keys = sorted({key for key, _, _ in items})
    stored, zones = store.read_facts(session, keys, log, now)
    states = {key: state for key, (state, _) in stored.items()}
    changed = domain.merge_all(states, items)
    facts = []
    for key, state in changed.items():
        new = domain.contribution(key[1], state, zones[key[0]])
        before = stored.get(key, (None, None))
        facts.append((key, state, before[1], new, before[0]))
    created = {key for key in changed if key not in stored}
    _write(session, facts, zones, created=created, now=now)


def _settings(session: Session, envelope: Envelope) -> None:
    """A tenant's settings copy updated; its facts derived again if its time zone moved."""
    tenant = envelope.tenantid
    before = tenant_settings.load(session, tenant).timezone
    if not tenant_settings.apply_settings_event(session, envelope):
        return
    after = tenant_settings.load(session, tenant).timezone
    if after != before:  # "a day" moved: every timestamped fact may change day
        _rezone(session, tenant, after)


def _rezone(session: Session, tenant: str, timezone: str) -> None:
    """Every fact of ``tenant`` contributing as its time zone ``timezone`` now says."""
    for rows in store.tenant_facts(session, tenant):
        # every fact written again: its days (a resolve limit's too) may move with the zone
        facts = [
            (key, state, applied, domain.contribution(key[1], state, timezone), state)
            for key, state, applied in rows
        ]
        _write(session, facts, {tenant: timezone}, created=set(), now=utcnow())


def _write(
    session: Session,
    facts: list[tuple[Key, Mapping[str, Any], Any, Contribution | None, Any]],
    zones: Mapping[str, str],
    created: set[Key],
    now,
) -> None:
    """Facts (key, state, the contribution applied so far as stored, the new one, the state
    stored so far) written with their days (``zones``: tenant -> time zone), and the
    aggregates and the customers' rows of their spans (customer_periods.py) moved from
    every old contribution to its new one."""
    if not facts:
        return
    inserts, updates, moves, visits = [], [], [], []
    for key, state, applied, new, stored in facts:
        tenant, kind, entity = key
        row = {
            "tenant_id": tenant,
            "kind": kind,
            "entity_id": entity,
            "state": state,
            "applied": new.to_json() if new else None,
            **domain.fact_days(kind, state, zones[tenant], new),
        }
        (inserts if key in created else updates).append(row)
        old = Contribution.from_json(applied)
        moves.append((tenant, old, new))
        if kind == "visit":
            customers = customer_periods.customer_of(stored), customer_periods.customer_of(state)
            visits.append((tenant, old, customers[0], new, customers[1]))
    members = customer_periods.member_rows(visits)
    store.write_facts(session, inserts, updates, domain.aggregate_rows(moves), now, members)
