"""The worker's periodic job: the escalation sweep."""

from __future__ import annotations

from revisit_common.runtime import ServiceRuntime

from . import escalation

ESCALATION_INTERVAL = 30.0  # seconds; limits are hours and days long


def escalation_sweep(runtime: ServiceRuntime) -> None:
    """Escalate every running complaint with a limit missed since the last sweep."""
    with runtime.db.transaction() as session:
        escalation.escalate_overdue(session, runtime.outbox, runtime.clock())
