"""`make run` (standalone, SQLite, in-memory bus) under 4 concurrent writers through the
gateway: every write is a 201, and every 201 is still there after the process is killed
(SIGKILL, no shutdown) and started again on the same data folder (issue #15: "it must lose
nothing"; SQLite in WAL mode with synchronous=NORMAL)."""

from __future__ import annotations

import os
import signal
import threading

import requests

from tests.support.standalone import ADMIN, Server, bearer, tenant_with_customer

WRITERS = 4
WRITES_EACH = 40


def purchase(writer: int, number: int) -> dict:
    return {
        "amount": 100 + number,
        "product": f"writer-{writer}-{number}",
        "purchased_at": "2026-11-20T09:30:00+08:00",
    }


def kill(server: Server) -> None:
    """SIGKILL: no request finishes, no engine closes, nothing is flushed on the way out."""
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=20)
    server.log.close()


def listed(base: str, key: str, customer_id: str) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        r = requests.get(
            f"{base}/api/v1/customers/{customer_id}/purchases",
            params=query,
            headers=bearer(key),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


def test_concurrent_writers_get_201s_that_survive_a_kill(tmp_path):
    data = tmp_path / "var"
    srv = Server(data, env={"REVISIT_ADMIN_TOKEN": ADMIN}).start()
    statuses: dict[int, list[int]] = {}
    created: dict[int, list[str]] = {}
    try:
        key, r = tenant_with_customer(srv.base)
        customer_id = r.json()["id"]
        start = threading.Barrier(WRITERS)

        def writer(index: int) -> None:
            session = requests.Session()  # keep-alive, as the bench's clients
            mine, seen = [], []
            start.wait()
            for number in range(WRITES_EACH):
                r = session.post(
                    f"{srv.base}/api/v1/customers/{customer_id}/purchases",
                    json=purchase(index, number),
                    headers=bearer(key),
                    timeout=30,
                )
                seen.append(r.status_code)
                if r.status_code == 201:
                    mine.append(r.json()["id"])
            statuses[index], created[index] = seen, mine

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        kill(srv)

    assert {i: set(s) for i, s in statuses.items()} == {i: {201} for i in range(WRITERS)}
    answered = {pid for ids in created.values() for pid in ids}
    assert len(answered) == WRITERS * WRITES_EACH

    srv = Server(data, port=srv.port, env={"REVISIT_ADMIN_TOKEN": ADMIN}).start()
    try:
        stored = listed(srv.base, key, customer_id)
        r = requests.get(
            f"{srv.base}/api/v1/customers/{customer_id}", headers=bearer(key), timeout=10
        )
        assert r.status_code == 200, r.text
    finally:
        srv.stop()
    assert {p["id"] for p in stored} == answered
    assert {p["product"] for p in stored} == {
        purchase(w, n)["product"] for w in range(WRITERS) for n in range(WRITES_EACH)
    }
