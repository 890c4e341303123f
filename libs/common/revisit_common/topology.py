"""Moved to :mod:`revisit_common.messaging.topology`; this name is kept only while the rest
of issue #12 lands (import from the new place)."""

from .messaging.topology import DEAD, EVENTS, dead_letter_queue, service_queue

__all__ = ["DEAD", "EVENTS", "dead_letter_queue", "service_queue"]
