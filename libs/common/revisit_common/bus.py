"""Moved to :mod:`revisit_common.messaging.bus`; this name is kept only while the rest of
issue #12 lands (import from the new place)."""

from .messaging.bus import Bus

__all__ = ["Bus"]
