"""Values read once per transaction, kept in the session until that transaction ends.

The event consumer applies a batch of events in one transaction; a handler that reads the
same row for every event (the tenant's settings, its webhooks) reads it once per batch
through :func:`memo`. Within one transaction a row changes only by that transaction's own
writes, so whoever writes one of these rows drops its entry (:func:`forget`). A new
transaction starts with an empty memo. A :class:`.core_transaction.CoreTransaction` keeps
its memo the same way (its ``info``, for itself alone).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

_MEMO = "revisit_memo"  # session.info: (the root transaction, {name: {key: value}})


def memo(session: Session, name: str) -> dict[Any, Any]:
    """The values kept under ``name`` in ``session``'s current transaction (begun here if
    it has not begun yet, as the statement reading the first value would begin it)."""
    root = session.get_transaction()
    if root is None:
        session.connection()
        root = session.get_transaction()
    held = session.info.get(_MEMO)
    if held is None or held[0] is not root:  # the first use in this transaction
        held = session.info[_MEMO] = (root, {})
    return held[1].setdefault(name, {})


def forget(session: Session, name: str, key: Any) -> None:
    """Drop ``key`` from ``name``'s values in the current transaction (it was written)."""
    held = session.info.get(_MEMO)
    if held is not None:
        held[1].get(name, {}).pop(key, None)
