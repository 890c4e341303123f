"""A write transaction on one SQLAlchemy Connection, for use cases made of Core statements.

A use case that never touches an ORM object (no ``session.add``, ``get`` or ``flush``:
every statement goes through :func:`revisit_common.db.run` or the transaction's
connection) gains nothing from a Session, whose begin, commit and close cost about a tenth
of such a request's CPU. :class:`CoreTransaction` gives it the few parts of the Session
interface the write path uses (its connection, its bind, ``info``, the transaction's
identity for :mod:`.transaction_memo` and the outbox, ``no_autoflush``) on a Connection
taken from the pool at its first statement, as a Session takes one. The outbox registers
its writer and its relays' wake-up here (:meth:`on_commit`) where a Session runs them from
its ``before_commit`` and ``after_commit`` events. :meth:`begin_nested` holds a savepoint
for a block of statements (a unique key taken inside it undone alone, as a Session's); the
outbox rows are not tied to it: a use case adds its events after the block.

:meth:`.db.Database.core_transaction` opens one: committed when the use case returns,
rolled back when it raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

Hook = Callable[["CoreTransaction"], None]


class CoreTransaction:
    """One transaction on one connection of ``engine`` (begun at the first statement)."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._connection: sa.Connection | None = None
        self.info: dict[str, Any] = {}  # as Session.info, for this transaction only
        self._before: list[Hook] = []
        self._after: list[Hook] = []

    def connection(self) -> sa.Connection:
        """The transaction's connection, checked out and begun on first use (SQLite: the
        writer lock taken then, as the first statement of a Session would take it)."""
        if self._connection is None:
            connection = self._engine.connect()
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def get_bind(self) -> Engine:
        return self._engine

    def get_transaction(self) -> CoreTransaction:
        """The transaction's identity (what a Session's root transaction is to the outbox
        and :mod:`.transaction_memo`): this object."""
        return self

    def get_nested_transaction(self) -> None:
        return None  # (savepoints hold statements only: the outbox's rows are the root's)

    def in_nested_transaction(self) -> bool:
        return False

    @contextlib.contextmanager
    def begin_nested(self) -> Iterator[None]:
        """A savepoint around the block: released when it ends, rolled back when it raises
        (the error raised on), as ``with session.begin_nested():`` on a Session."""
        with self.connection().begin_nested():
            yield

    @property
    def no_autoflush(self) -> contextlib.nullcontext:
        return contextlib.nullcontext()  # nothing to flush

    def execute(self, statement, params=None):
        return self.connection().execute(statement, params)

    def scalar(self, statement, params=None):
        return self.connection().scalar(statement, params)

    def on_commit(self, before: Hook, after: Hook) -> None:
        """``before(self)`` runs before the COMMIT (its error rolls everything back),
        ``after(self)`` once it is done; each once per commit, in the order registered."""
        self._before.append(before)
        self._after.append(after)

    def commit(self) -> None:
        try:
            for hook in self._before:
                hook(self)
            if self._connection is not None:
                self._connection.commit()
        except BaseException:
            self.rollback()
            raise
        self._close()
        for hook in self._after:
            hook(self)

    def rollback(self) -> None:
        if self._connection is not None:
            try:
                self._connection.rollback()
            finally:
                self._close()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
