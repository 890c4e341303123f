"""Events as another service would publish them, for a consumer under test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from revisit_common.messaging.envelope import Envelope

from .client import TENANT


def envelope(type_name: str, data: dict, *, tenant: str = TENANT, time: str | None = None):
    """An event as another service would publish it."""
    return Envelope(
        id=str(uuid.uuid4()),
        source="revisit/test",
        type=type_name,
        time=time or datetime.now(UTC).isoformat(),
        subject=str(next(iter(data.values()), "")),
        tenantid=tenant,
        region="test",
        dataversion=1,
        correlationid="corr-1",
        data=data,
    )
