"""A fake clock for the use cases (revisit_common.clock): it stands still at the instant a
test chose until the test moves it, so nothing a test asserts depends on today's date."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Call it for the current instant; :meth:`advance` moves it forward."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at
