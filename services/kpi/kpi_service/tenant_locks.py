"""Competing consumers of one tenant's events (several KPI worker replicas on one queue).

Two transactions may apply events of the same tenant at once: their facts are locked row by
row (bulk.py), so merges and counts add up. A settings event may change the tenant's time
zone, and then every fact of the tenant is derived again (projection.py): that must not
interleave with another transaction merging events of the same tenant under the old zone.
So every run takes, per tenant, a transaction-scoped advisory lock before any row lock:
shared to apply events, exclusive to apply a settings event. All of a transaction's locks
are taken at once, in one order (by key), so two transactions never wait on each other in a
cycle. SQLite has a single writer: nothing to do there.

Facts: a consumer's events of one fact are spread over the replicas (the broker hands the
messages round), so two transactions often create the same fact at once, and the second
would fail on its primary key and apply its whole batch again one event at a time. So a
consumer's transaction also locks, after its tenants, every fact its events feed (an
advisory lock per fact key, in key order, all in one statement): the second waits for the
first to commit and then finds the fact. These locks live in the server's shared lock table
(``max_locks_per_transaction`` times the connections: 6,400 on a default server of 100),
one per fact of a consumer batch (at most half the prefetch, and never more facts than
events), which is why a rebuild, replaying the whole log in one transaction, takes none,
and why a transaction feeding more than :data:`MAX_FACT_LOCKS` facts (a seeding's large
batches) locks its tenants exclusively instead: no other transaction then touches their
facts, and it holds a lock per tenant, not per fact. The limit is above any batch of a
prefetch up to 2,000: a consumer batch of 800 bench events feeds ~520 facts, and locking
their tenants exclusively instead would make competing consumers of the same tenants take
turns for the whole transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

# One statement takes every lock of a transaction, in the order of its JSON parameter
# ([[mode, a, b], ...]: the tenants' locks first, then the facts', each in key order), so a
# batch costs one round trip whatever it locks. Mode "x": a tenant exclusively, "s": shared
# (one-key form, key a); "f": a fact (the two-key form (a, b): a key space of its own, apart
# from the tenants'). The C JSON encoder writes the parameter (psycopg dumps each element of
# an array parameter in Python).
_LOCK = sa.text(
    "SELECT count(CASE l.mode "
    "WHEN 'x' THEN pg_advisory_xact_lock(l.a)::text "
    "WHEN 's' THEN pg_advisory_xact_lock_shared(l.a)::text "
    "ELSE pg_advisory_xact_lock(CAST(l.a AS integer), l.b)::text END) "
    "FROM (SELECT CAST(e ->> 0 AS text) AS mode, CAST(e ->> 1 AS bigint) AS a, "
    "CAST(e ->> 2 AS integer) AS b, n "
    "FROM json_array_elements(CAST(:locks AS json)) WITH ORDINALITY AS j(e, n) "
    "ORDER BY n) AS l"
)


def key(tenant: str) -> int:
    """A tenant's advisory lock key (a signed 64-bit number; a collision only serializes)."""
    digest = hashlib.blake2b(f"kpi:{tenant}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Beyond this many facts in one transaction, its tenants are locked exclusively instead.
MAX_FACT_LOCKS = 1000


def lock(
    session: Session,
    tenants: Mapping[str, bool],
    facts: Iterable[tuple[str, str, str]] = (),
) -> None:
    """Lock ``tenants`` (tenant -> exclusive) until the transaction ends, in key order, then
    ``facts`` (tenant, kind, entity; each of one of ``tenants``) in key order; beyond
    :data:`MAX_FACT_LOCKS` facts, every tenant exclusively and no fact."""
    if not tenants or session.get_bind().dialect.name != "postgresql":
        return
    facts = set(facts)
    if len(facts) > MAX_FACT_LOCKS:
        tenants, facts = dict.fromkeys(tenants, True), set()
    wanted: dict[int, bool] = {}
    for tenant, exclusive in tenants.items():
        k = key(tenant)
        wanted[k] = wanted.get(k, False) or exclusive
    locks = [["x" if wanted[k] else "s", k, 0] for k in sorted(wanted)]
    locks += [["f", *pair] for pair in sorted({fact_key(fact) for fact in facts})]
    session.execute(_LOCK, {"locks": json.dumps(locks)})


def fact_key(fact: tuple[str, str, str]) -> tuple[int, int]:
    """A fact's advisory lock key, as two signed 32-bit numbers (a collision only
    serializes)."""
    tenant, kind, entity = fact
    digest = hashlib.blake2b(f"{tenant}\x1f{kind}\x1f{entity}".encode(), digest_size=8).digest()
    return (
        int.from_bytes(digest[:4], "big", signed=True),
        int.from_bytes(digest[4:], "big", signed=True),
    )
