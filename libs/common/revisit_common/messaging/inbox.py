"""Idempotent consumers: the ids of applied events, written in the handlers' transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import db
from .envelope import Envelope

_meta = sa.MetaData()
inbox_table = sa.Table(
    "inbox",
    _meta,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("event_type", sa.String(100)),
    sa.Column("applied_at", sa.DateTime(timezone=True)),
)

# The claims as one JSON parameter (the [id, type] pairs), whatever the batch size: one
# statement text, compiled once and prepared by the driver (a multi-row VALUES list would be
# a new statement per size), written by the C JSON encoder. (SQLite: ``WHERE true`` tells
# its parser that ON CONFLICT is the INSERT's, not a join's.)
_APPLIED_AT = sa.bindparam("applied_at", type_=inbox_table.c.applied_at.type)
_CLAIM = {
    "postgresql": sa.text(
        "INSERT INTO inbox (consumer, event_id, event_type, applied_at) "
        "SELECT :consumer, claimed ->> 0, claimed ->> 1, :applied_at "
        "FROM json_array_elements(CAST(:claims AS json)) AS claimed "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    ).bindparams(_APPLIED_AT),
    "sqlite": sa.text(
        "INSERT INTO inbox (consumer, event_id, event_type, applied_at) "
        "SELECT :consumer, json_extract(claimed.value, '$[0]'), "
        "json_extract(claimed.value, '$[1]'), :applied_at "
        "FROM json_each(:claims) AS claimed WHERE true "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    ).bindparams(_APPLIED_AT),
}


def claim(session: Session, consumer: str, envelopes: Sequence[Envelope]) -> set[int]:
    """Record the events as applied by ``consumer``: the indexes of those newly claimed.

    An event already in the inbox (a redelivery), or a second copy of an id within
    ``envelopes``, is not claimed. Runs inside the handlers' transaction: if a handler
    fails, the claims roll back with it; if it commits, a redelivery finds the row and is
    skipped. On PostgreSQL a concurrent duplicate waits for the first transaction and then
    finds the row; ids are claimed in sorted order, so two consumers never deadlock on them.
    One statement for the whole batch (a single event is a batch of one), run on the
    driver's connection (:func:`revisit_common.db.run`).
    """
    first: dict[str, int] = {}
    for index, envelope in enumerate(envelopes):
        first.setdefault(envelope.id, index)
    # in id order: competing consumers claiming the same ids wait on each other in one order
    # (a consumer's copy waits for the other's commit, then finds the row), never in a cycle
    first = dict(sorted(first.items()))
    if not first:
        return set()
    claims = [[event_id, envelopes[index].type] for event_id, index in first.items()]
    params = {"consumer": consumer, "claims": json.dumps(claims), "applied_at": datetime.now(UTC)}
    statement = _CLAIM[session.get_bind().dialect.name]
    new = {row[0] for row in db.run(session, statement, params)}
    return {index for event_id, index in first.items() if event_id in new}
