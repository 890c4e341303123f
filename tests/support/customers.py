"""A customer to register (``ACME``), and a stand-in for the customer service as other
services read it (``directory.Peer``).

The stand-in answers ``GET /api/v1/customers/{id}`` like the customer service: the customer
when it was added for the calling tenant (or for every tenant), 404 otherwise. ``calls``
counts the reads, so a test can tell the local copy from the synchronous read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import unquote

from revisit_common.identity import TENANT_HEADER

PREFIX = "/api/v1/customers/"

# A customer to register through the customer service's API.
ACME = {
    "name": "Acme Trading",
    "type": "dealer",
    "region": "east",
    "annual_purchase_amount": 1500000,
    "cooperation_start": "2019-01-01",
    "owner": "li.wei",
    "contacts": [
        {"name": "Zhang San", "title": "Buyer", "decision_maker": True, "birthday": "1980-05-02"}
    ],
}


class FakeCustomerService:
    def __init__(self) -> None:
        self.records: dict[tuple[str | None, str], dict] = {}
        self.calls: list[tuple[str, str]] = []

    def add(self, customer_id: str, region: str = "east", *, tenant: str | None = None, **more):
        """``tenant`` None: a customer every tenant has (for fixtures of one-service tests)."""
        self.records[(tenant, customer_id)] = {"id": customer_id, "region": region, **more}

    def get(self, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        tenant = headers[TENANT_HEADER]
        customer_id = unquote(path[len(PREFIX) :]) if path.startswith(PREFIX) else ""
        self.calls.append((tenant, customer_id))
        found = self.records.get((tenant, customer_id)) or self.records.get((None, customer_id))
        if found is None:
            return 404, b'{"status": 404, "detail": "customer not found"}'
        return 200, json.dumps(found).encode()
