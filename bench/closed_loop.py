"""The benches' HTTP clients: closed-loop threads, each on a keep-alive connection of its
own, each sending its next request as soon as the previous one is answered (so every target
sees the same concurrency). Shared by the sections that load HTTP targets (gateway, floor,
embedded)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def send(conn: http.client.HTTPConnection, method: str, path: str, body, headers) -> int:
    """One request on ``conn``, its answer read whole: the status."""
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    if resp.will_close:
        conn.close()
    return resp.status


def run(
    clients: int,
    connect: Callable[[], http.client.HTTPConnection],
    next_request: Callable[[int], Request | None],
    seconds: float,
    tally,
) -> float:
    """``clients`` threads, each on a connection from ``connect()``, sending
    ``next_request(its index)`` (None: that client is done) for ``seconds``. Every answer
    goes into ``tally`` (``latencies`` of 2xx answers, ``statuses``, ``errors``: other
    answers and broken connections, after which the client connects again). Returns how
    long the window lasted."""
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        conn = connect()
        latencies, statuses, errors = [], {}, 0
        ready.wait()
        end = window["start"] + seconds
        try:
            while (sent := time.perf_counter()) < end:
                request = next_request(index)
                if request is None:
                    break
                try:
                    status = send(conn, *request)
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    conn = connect()
                    continue
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if 200 <= status < 300:
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors += 1
        finally:
            conn.close()
        with lock:
            tally.latencies.extend(latencies)
            tally.errors += errors
            for key, count in statuses.items():
                tally.statuses[key] = tally.statuses.get(key, 0) + count

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    ready.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - window["start"]
