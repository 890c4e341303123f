"""A settings change applies to the next request, before its event has arrived.

The gateway sends the tenant's current settings version with every forwarded request
(``X-Revisit-Settings-Version``, read into ``Identity.settings_version``). When this
service's copy (``tenant_settings``) is older, it reads the current document from the
gateway and stores it before the request runs; the TenantSettingsChanged event that
arrives later is then an old version and changes nothing. Only for services whose event
handler does nothing but keep the copy: where applying settings has other effects (the
customer service regrades, the KPI store re-buckets), the event must stay the one path.

The newest version known to be held is remembered per tenant in this process, so a request
whose version is not newer costs no query. It only ever grows, as the copy does.
"""

from __future__ import annotations

import threading

from . import tenant_settings
from .db import Database
from .directory import Directory


class SettingsCatchUp:
    def __init__(self, db: Database, directory: Directory):
        self.db = db
        self.directory = directory
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def ensure(self, tenant_id: str, version: int) -> None:
        """Make the copy of ``tenant_id``'s settings at least ``version`` (the gateway's)."""
        if self._held.get(tenant_id, 0) >= version:
            return
        with self.db.read() as session:
            held = tenant_settings.load(session, tenant_id).version
        if held < version:
            current = self.directory.settings(tenant_id)
            with self.db.transaction() as session:
                tenant_settings.store(
                    session, tenant_id, current.version, current.timezone, current.document
                )
            held = max(held, current.version)
        with self._lock:
            self._held[tenant_id] = max(self._held.get(tenant_id, 0), held)
