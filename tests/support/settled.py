"""Waiting for a service's consumer to settle messages, through its ``on_settled`` hook
(revisit_common.messaging.consumer) rather than by polling what it wrote.

Watch before the messages can arrive: ``settled = watch_settled(runtime)``, then start the
consumer and ``settled.wait(3)``; ``wait_settled(runtime, n)`` is the same on the watch
:func:`watch_settled` put on ``runtime`` earlier.
"""

from __future__ import annotations

import threading
import weakref


class Settled:
    """The messages one consumer settled since it was watched: ``(event id, outcome)``,
    in the order it settled them."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.messages: list[tuple[str | None, str]] = []

    def note(self, event_id: str | None, outcome: str) -> None:
        with self._changed:
            self.messages.append((event_id, outcome))
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[str | None, str]]:
        """The first ``count`` messages settled; fail when fewer are within ``timeout`` s."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(
                    f"{count} messages not settled within {timeout} s: {self.messages!r}"
                )
            return self.messages[:count]

    def wait_for(self, *event_ids: str, timeout: float = 10.0) -> dict[str | None, str]:
        """Once every one of ``event_ids`` is settled: how each message was (by event id,
        the last settlement of an id settled twice)."""
        with self._changed:
            if not self._changed.wait_for(lambda: set(event_ids) <= set(self.ids()), timeout):
                missing = set(event_ids) - set(self.ids())
                raise AssertionError(f"{len(missing)} events not settled within {timeout} s")
            return dict(self.messages)

    def ids(self) -> list[str | None]:
        return [event_id for event_id, _ in self.messages]

    def outcomes(self) -> list[str]:
        return [outcome for _, outcome in self.messages]


_watched: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # consumer → Settled


def watch_settled(runtime) -> Settled:
    """The messages ``runtime``'s consumer settles from now on (one watch per runtime)."""
    consumer = runtime.consumer
    if consumer not in _watched:
        _watched[consumer] = Settled()
        consumer.on_settled(_watched[consumer].note)
    return _watched[consumer]


def wait_settled(runtime, count: int, timeout: float = 10.0) -> list[tuple[str | None, str]]:
    """The first ``count`` messages ``runtime``'s consumer settled since it was watched."""
    return watch_settled(runtime).wait(count, timeout)
