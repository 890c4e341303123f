"""idempotency_keys: Idempotency-Key of POST/PATCH requests (CONTRACT.md §4.1)"""

from revisit_common.migrations import add_idempotency_keys as upgrade
from revisit_common.migrations import drop_idempotency_keys as downgrade

revision = "0002"
down_revision = "0001"

__all__ = ["downgrade", "upgrade"]
