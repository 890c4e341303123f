"""Publisher confirms for many messages in flight at once (bookkeeping only, no I/O).

On a channel in confirm mode the broker numbers the messages published on it 1, 2, 3, ...
and acks or nacks them, one tag at a time or "every tag up to this one" (``multiple``).
"""

from __future__ import annotations


class ConfirmWindow:
    def __init__(self) -> None:
        self.next_tag = 1
        self._settled: dict[int, bool] = {}
        self._floor = 0  # every tag up to here is settled

    def sent(self) -> None:
        """One more message published on the channel."""
        self.next_tag += 1

    def settle(self, tag: int, multiple: bool, ok: bool) -> None:
        """The broker acked (``ok``) or nacked ``tag``, or every tag up to it."""
        if multiple:
            for each in range(self._floor + 1, tag + 1):
                self._settled.setdefault(each, ok)
            self._floor = max(self._floor, tag)
        else:
            self._settled.setdefault(tag, ok)
        while self._floor + 1 in self._settled:
            self._floor += 1

    def all_settled(self, first: int, count: int) -> bool:
        last = first + count - 1
        return self._floor >= last or all(
            tag in self._settled for tag in range(max(first, self._floor + 1), last + 1)
        )

    def acked(self, tag: int) -> bool:
        return self._settled.get(tag) is True

    def forget(self, first: int, count: int) -> None:
        for tag in range(first, first + count):
            self._settled.pop(tag, None)

    def pending(self) -> int:
        """How many settlements are remembered (for tests: none once a batch is done)."""
        return len(self._settled)
