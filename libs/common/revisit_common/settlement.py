"""Moved to :mod:`revisit_common.messaging.settlement`; this name is kept only while the
rest of issue #12 lands (import from the new place)."""

from .messaging.settlement import Settlements, topic_matches

__all__ = ["Settlements", "topic_matches"]
