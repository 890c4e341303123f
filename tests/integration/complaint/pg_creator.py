"""One OS process creating complaints (spawned by test_numbering_postgres.py).

Builds its own complaint runtime on the shared PostgreSQL schema, waits at the barrier so
every process starts together, then creates complaints from several threads through the
HTTP API, and puts the numbers it got on the result queue.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from complaint_service.bootstrap import SPEC
from revisit_common.runtime import ServiceRuntime
from tests.support.settings import make_settings

TOKEN = "internal-test-token"


def create_many(settings: dict, tenant: str, received_at: str, count: int, threads: int,
                barrier, results) -> None:  # fmt: skip
    try:
        runtime = ServiceRuntime(SPEC, make_settings(**settings))
        app = runtime.create_app()
        headers = {
            "X-Revisit-Internal-Token": TOKEN,
            "X-Revisit-Tenant": tenant,
            "X-Revisit-Role": "agent",
        }
        body = {
            "customer_id": "cust-1",
            "channel": "online",
            "severity": "general",
            "category": "late_delivery",
            "department": "logistics",
            "description": "arrived a week late",
            "received_at": received_at,
        }

        def create(_):
            response = app.test_client().post("/api/v1/complaints", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
            return response.get_json()["number"]

        barrier.wait(timeout=60)
        with ThreadPoolExecutor(threads) as pool:
            numbers = list(pool.map(create, range(count)))
        runtime.close()
        results.put(("ok", numbers))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put(("error", repr(exc)))
