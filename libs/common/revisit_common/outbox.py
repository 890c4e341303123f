"""Moved to :mod:`revisit_common.messaging.outbox` (the writer) and
:mod:`revisit_common.messaging.relay`; this name is kept only while the rest of issue #12
lands (import from the new places)."""

from .messaging.outbox import NOTIFY_CHANNEL, Outbox, outbox_table, pending_count
from .messaging.relay import PublishFailed, Relay

__all__ = ["NOTIFY_CHANNEL", "Outbox", "PublishFailed", "Relay", "outbox_table", "pending_count"]
