"""When an event on the in-memory bus counts as delivered: once every consumer bound to it
has settled it (applied, skipped as a duplicate or ignored, or dead-lettered).

kombu's ``memory://`` transport keeps its queues in the process: a message it accepted is
gone if the process dies before a consumer applied it. So in standalone mode the relay does
not mark an outbox row sent when the memory bus takes it, but when :class:`Settlements` says
that every service whose queue the routing key reaches has settled the event. Rows still
unsettled when the process stops keep ``sent_at`` empty and are published again at the next
start; consumers are idempotent (the inbox), so a row applied before the crash is skipped
and one that was not is applied once.

On RabbitMQ none of this is needed: the broker's publisher confirm means the message is
stored durably, and the broker redelivers what a consumer did not ack.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on ``.``; ``*`` is exactly one word, ``#`` zero or
    more words."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[skip:]) for skip in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


class Settlements:
    """Which consumers still owe a settlement for each event published in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bindings: dict[str, tuple[str, ...]] = {}
        self._pending: dict[str, tuple[set[str], Callable[[], None]]] = {}
        # routing key -> the consumers bound to it (matching is in Python: once per key)
        self._routes: dict[str, frozenset[str]] = {}

    def bind(self, consumer: str, routing_keys: Iterable[str]) -> None:
        """``consumer``'s queue receives the events whose routing key matches one of these."""
        with self._lock:
            self._bindings[consumer] = tuple(routing_keys)
            self._routes.clear()

    def consumers_of(self, routing_key: str) -> set[str]:
        with self._lock:
            known = self._routes.get(routing_key)
            if known is None:
                known = self._routes[routing_key] = frozenset(
                    consumer
                    for consumer, patterns in self._bindings.items()
                    if any(topic_matches(pattern, routing_key) for pattern in patterns)
                )
        return set(known)

    def expect(self, event_id: str, routing_key: str, on_settled: Callable[[], None]) -> None:
        """Call ``on_settled`` once every consumer bound to ``routing_key`` has settled
        ``event_id`` (at once when none is bound). Call before publishing the event."""
        owed = self.consumers_of(routing_key)
        if owed:
            with self._lock:
                self._pending[event_id] = (owed, on_settled)
            return
        on_settled()

    def forget(self, event_id: str) -> None:
        """The event was not published after all."""
        with self._lock:
            self._pending.pop(event_id, None)

    def settled(self, event_id: str, consumer: str) -> None:
        """``consumer`` has acknowledged or dead-lettered ``event_id``."""
        with self._lock:
            entry = self._pending.get(event_id)
            if entry is None:
                return
            owed, on_settled = entry
            owed.discard(consumer)
            if owed:
                return
            del self._pending[event_id]
        on_settled()

    def outstanding(self) -> int:
        with self._lock:
            return len(self._pending)
