"""Console passwords and sign-in lockout (CONTRACT §4.8). Plain functions, no Flask or SQL.

* **Hashing**: scrypt (memory-hard; Python's ``hashlib.scrypt``, OpenSSL's) with a random
  16-byte salt, cost N = 2**15, r = 8, p = 1 (32 MiB and about 0.1 s a hash here; the
  operator may choose another N, REVISIT_PASSWORD_COST). The
  stored form names its parameters (``scrypt$15$8$1$<salt>$<hash>``, base64), so the cost can
  be raised later and old hashes still verify. A stored form that is not one verifies
  nothing.
* **A password** is 10 to 200 characters, not only spaces, and not the person's staff id.
* **Lockout**: after :data:`MAX_FAILURES` failed sign-ins in a row a person is locked for
  :data:`LOCK_MINUTES` minutes; while locked, even the right password is refused (the
  attempt is not counted). A successful sign-in clears the count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import datetime, timedelta
from typing import NamedTuple

MIN_LENGTH = 10
MAX_LENGTH = 200
LOG2_N, R, P = 15, 8, 1
MIN_COST, MAX_COST = 10, 20  # log2 of N, as stored forms may hold
SALT_BYTES, HASH_BYTES = 16, 32
MAX_FAILURES = 5
LOCK_MINUTES = 15
SCHEME = "scrypt"


def _scrypt(
    password: str, salt: bytes, log2_n: int, r: int, p: int, length: int = HASH_BYTES
) -> bytes:
    memory = 128 * r * (2**log2_n) * 2  # what scrypt needs, with room (OpenSSL's maxmem)
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=2**log2_n, r=r, p=p, maxmem=memory, dklen=length
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None, cost: int = LOG2_N) -> str:
    """The stored form of ``password`` (a new random salt unless one is given) with
    N = 2**cost."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, cost, R, P)
    return f"{SCHEME}${cost}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant time)."""
    parts = (stored or "").split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return False
    try:
        log2_n, r, p = (int(part) for part in parts[1:4])
        salt, digest = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return False
    sane = MIN_COST <= log2_n <= MAX_COST and 1 <= r <= 32 and 1 <= p <= 16
    if not sane or not 16 <= len(digest) <= 64:
        return False
    return hmac.compare_digest(_scrypt(password, salt, log2_n, r, p, len(digest)), digest)


def burn_time(password: str, cost: int = LOG2_N) -> None:
    """As long as a verification at ``cost`` takes, for a person with no password (or none
    at all), so that the answer's time tells nothing of who exists."""
    _scrypt(password, b"\0" * SALT_BYTES, cost, R, P)


def weakness(password: str, staff_id: str) -> str | None:
    """Why ``password`` may not be set for the person ``staff_id`` (None: it may)."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if not password.strip():
        return "not only spaces"
    if password.strip().lower() == staff_id.lower():
        return "not the staff id"
    return None


class Lock(NamedTuple):
    failed: int
    locked_until: datetime | None


def locked(state: Lock, now: datetime) -> bool:
    """Whether a person with ``state`` is locked out at ``now``."""
    return state.locked_until is not None and now < state.locked_until


def after_failure(state: Lock, now: datetime) -> Lock:
    """The state after one more failed sign-in at ``now``: the :data:`MAX_FAILURES`-th in a
    row locks for :data:`LOCK_MINUTES` minutes and starts the count again."""
    failed = state.failed + 1
    if failed >= MAX_FAILURES:
        return Lock(0, now + timedelta(minutes=LOCK_MINUTES))
    return Lock(failed, state.locked_until)


def after_success() -> Lock:
    return Lock(0, None)
