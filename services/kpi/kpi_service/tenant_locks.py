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
(``max_locks_per_transaction``), one per fact of a consumer batch (at most half the
prefetch), which is why a rebuild, replaying the whole log in one transaction, takes none,
and why a transaction feeding more than :data:`MAX_FACT_LOCKS` facts (a seeding's large
batches) locks its tenants exclusively instead: no other transaction then touches their
facts, and it holds a lock per tenant, not per fact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

_LOCK = sa.text(
    "SELECT CASE WHEN s.x THEN pg_advisory_xact_lock(s.k)::text "
    "ELSE pg_advisory_xact_lock_shared(s.k)::text END "
    "FROM (SELECT k, x FROM unnest(CAST(:keys AS bigint[]), CAST(:exclusive AS boolean[])) "
    "AS l(k, x) ORDER BY k) AS s"
)


# The two-int form of the advisory locks: a key space of its own, apart from the tenants'.
# The keys travel as one JSON parameter, [[a, b], ...] in order (the C JSON encoder writes
# it; psycopg dumps each element of an array parameter in Python).
_LOCK_FACTS = sa.text(
    "SELECT count(pg_advisory_xact_lock(CAST(l ->> 0 AS integer), CAST(l ->> 1 AS integer))) "
    "FROM json_array_elements(CAST(:keys AS json)) AS l"
)


def key(tenant: str) -> int:
    """A tenant's advisory lock key (a signed 64-bit number; a collision only serializes)."""
    digest = hashlib.blake2b(f"kpi:{tenant}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Beyond this many facts in one transaction, its tenants are locked exclusively instead.
MAX_FACT_LOCKS = 500


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
    keys = sorted(wanted)
    session.execute(_LOCK, {"keys": keys, "exclusive": [wanted[k] for k in keys]})
    if facts:
        fact_keys = sorted({fact_key(fact) for fact in facts})
        session.execute(_LOCK_FACTS, {"keys": json.dumps(fact_keys)})


def fact_key(fact: tuple[str, str, str]) -> tuple[int, int]:
    """A fact's advisory lock key, as two signed 32-bit numbers (a collision only
    serializes)."""
    tenant, kind, entity = fact
    digest = hashlib.blake2b(f"{tenant}\x1f{kind}\x1f{entity}".encode(), digest_size=8).digest()
    return (
        int.from_bytes(digest[:4], "big", signed=True),
        int.from_bytes(digest[4:], "big", signed=True),
    )
