"""Identifiers: time-ordered UUIDs (version 7), so ids sort by creation."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """A UUIDv7 string (RFC 9562): 48-bit millisecond time, version, random bits.

    Ids made in one process are strictly increasing, which keeps cursor paging stable.
    """
    global _last
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    with _lock:
        ms = time.time_ns() // 1_000_000
        value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0x2 << 62) | rand_b
        if value <= _last:
            value = _last + 1  # same millisecond: count up in the low random bits
        _last = value
    return str(uuid.UUID(int=value))
