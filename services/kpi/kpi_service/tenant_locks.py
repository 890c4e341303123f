"""Competing consumers of one tenant's events (several KPI worker replicas on one queue).

Two transactions may apply events of the same tenant at once: their facts are locked row by
row (bulk.py), so merges and counts add up. A settings event may change the tenant's time
zone, and then every fact of the tenant is derived again (projection.py): that must not
interleave with another transaction merging events of the same tenant under the old zone.
So every run takes, per tenant, a transaction-scoped advisory lock before any row lock:
shared to apply events, exclusive to apply a settings event. All of a transaction's locks
are taken at once, in one order (by key), so two transactions never wait on each other in a
cycle. SQLite has a single writer: nothing to do there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

_LOCK = sa.text(
    "SELECT CASE WHEN s.x THEN pg_advisory_xact_lock(s.k)::text "
    "ELSE pg_advisory_xact_lock_shared(s.k)::text END "
    "FROM (SELECT k, x FROM unnest(CAST(:keys AS bigint[]), CAST(:exclusive AS boolean[])) "
    "AS l(k, x) ORDER BY k) AS s"
)


def key(tenant: str) -> int:
    """A tenant's advisory lock key (a signed 64-bit number; a collision only serializes)."""
    digest = hashlib.blake2b(f"kpi:{tenant}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock(session: Session, tenants: Mapping[str, bool]) -> None:
    """Lock ``tenants`` (tenant -> exclusive) until the transaction ends, in key order."""
    if not tenants or session.get_bind().dialect.name != "postgresql":
        return
    wanted: dict[int, bool] = {}
    for tenant, exclusive in tenants.items():
        k = key(tenant)
        wanted[k] = wanted.get(k, False) or exclusive
    keys = sorted(wanted)
    session.execute(_LOCK, {"keys": keys, "exclusive": [wanted[k] for k in keys]})
