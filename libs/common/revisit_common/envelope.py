"""Moved to :mod:`revisit_common.messaging.envelope`; this name is kept only while the rest
of issue #12 lands (import from the new place)."""

from .messaging.envelope import CONTENT_TYPE, Envelope, InvalidEnvelope, parse, wrap

__all__ = ["CONTENT_TYPE", "Envelope", "InvalidEnvelope", "parse", "wrap"]
