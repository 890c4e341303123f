"""Moved to :mod:`revisit_common.messaging.inbox`; this name is kept only while the rest of
issue #12 lands (import from the new place)."""

from .messaging.inbox import claim, inbox_table

__all__ = ["claim", "inbox_table"]
