"""The internal endpoint where the gateway checks changes to the ``notifications`` settings
section, which this service owns: checked with its own
:class:`~.notification_rules.NotificationPolicy`."""

from __future__ import annotations

from revisit_common import settings_section_api

from .notification_rules import NotificationPolicy

SECTION = "notifications"

blp = settings_section_api.blueprint(SECTION, NotificationPolicy)
