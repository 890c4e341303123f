"""The policies' figures of ``GET /kpis`` (store.visit_customers, complaints_by_limit,
purchase_sums) equal the rule over the facts (policy_kpis.policy_counts) when a few
customers have many visits each, of every reason, some completed and some not: the per
customer levels of visit_customers decide then. SQLite and PostgreSQL (on PostgreSQL the
statements run often enough to be prepared: generic plans too)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from tests.support.kpi import policy_figures
from tests.support.kpi.stores import BACKENDS, one_store

CUSTOMERS = 3


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with one_store(request, tmp_path, "few") as db:
        yield db


def few_customers(rng: random.Random) -> list:
    """policy_figures' stream with its customers folded onto :data:`CUSTOMERS` (visits
    without one kept so)."""
    out = []
    for envelope in policy_figures.stream(rng):
        customer = envelope.data.get("customer_id")
        if customer:
            folded = f"c{int(customer[1:]) % CUSTOMERS}"
            envelope = dataclasses.replace(envelope, data={**envelope.data, "customer_id": folded})
        out.append(envelope)
    return out


@pytest.mark.parametrize("seed", [7, 8])
def test_few_customers_with_many_visits(database, seed):
    policy_figures.feed(database, few_customers(random.Random(seed)), batch=30)
    policy_figures.check(database, random.Random(seed), count=60)
