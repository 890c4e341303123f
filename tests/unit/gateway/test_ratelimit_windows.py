"""The gateway's own fixed-window counters (``ratelimit.py``): windows, sweeping, and the
fallback to memory when a shared store fails. (Behaviour through HTTP: tests/security.)"""

from __future__ import annotations

import threading

import pytest
from limits import parse

from gateway_service import ratelimit
from gateway_service.ratelimit import GatewayLimiter, MemoryWindows


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


def test_a_window_counts_up_to_the_limit_then_opens_again(clock):
    windows = MemoryWindows()
    item = parse("3/minute")
    results = [windows.hit(item, "key:a") for _ in range(4)]
    assert [ok for ok, _ in results] == [True, True, True, False]
    assert {end for _, end in results} == {clock[0] + 60}
    assert windows.hit(item, "key:b")[0]  # another caller, another counter
    clock[0] += 60
    assert windows.hit(item, "key:a") == (True, clock[0] + 60)


def test_ended_windows_are_swept(clock):
    windows = MemoryWindows()
    item = parse("1/second")
    for n in range(100):
        windows.hit(item, f"ip:10.0.0.{n}")
    assert len(windows._counts) == 100
    clock[0] += ratelimit.SWEEP_SECONDS + 1
    windows.hit(item, "ip:10.0.0.1")
    assert len(windows._counts) == 1


def test_counting_is_exact_across_threads():
    windows = MemoryWindows()
    item = parse("1000/hour")
    allowed = []

    def hammer():
        allowed.append(sum(windows.hit(item, "key:k")[0] for _ in range(300)))

    threads = [threading.Thread(target=hammer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 1000


def test_limits_are_checked_shortest_period_first():
    limiter = GatewayLimiter("300/minute;10/second", "off", "memory://")
    assert [str(item) for item in limiter.per_key] == ["10 per 1 second", "300 per 1 minute"]
    assert limiter.per_ip == ()
    assert limiter.shared is None


class BrokenStore:
    calls = 0

    def hit(self, item, key):
        BrokenStore.calls += 1
        raise ConnectionError("store down")


def test_a_failing_shared_store_falls_back_to_memory_and_is_retried_later(monkeypatch):
    limiter = GatewayLimiter("2/minute", "off", "memory://")
    limiter.shared = BrokenStore()
    monotonic = [500.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: monotonic[0])
    item = limiter.per_key[0]
    assert [limiter._hit(item, "key:a")[0] for _ in range(3)] == [True, True, False]
    assert BrokenStore.calls == 1  # then left alone for a while
    monotonic[0] += 2.5
    limiter._hit(item, "key:a")
    assert BrokenStore.calls == 2
    monotonic[0] += 2.5  # the back-off doubled: not yet
    limiter._hit(item, "key:a")
    assert BrokenStore.calls == 2
