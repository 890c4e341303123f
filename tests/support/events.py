"""Events as another service would publish them, for a consumer under test: any type as
a plain envelope, or a typed one of the catalogue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from revisit_common.events import TenantSettingsChanged
from revisit_common.messaging.envelope import Envelope, wrap

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


def settings_changed(version: int, settings: dict, *, tenant: str = TENANT) -> Envelope:
    """The gateway's TenantSettingsChanged: ``tenant`` (in Shanghai) now has ``settings``."""
    event = TenantSettingsChanged(
        tenant_id=tenant, timezone="Asia/Shanghai", settings=settings, settings_version=version
    )
    return wrap(event, tenant_id=tenant, region="test", correlation_id="corr-1")
