"""Moved to :mod:`revisit_common.messaging.consumer` and
:mod:`revisit_common.messaging.registry`; this name is kept only while the rest of issue
#12 lands (import from the new places)."""

from .messaging.consumer import EventConsumer
from .messaging.registry import BatchHandler, Handler, HandlerContext

__all__ = ["BatchHandler", "EventConsumer", "Handler", "HandlerContext"]
