"""The apispec plugin that documents ``Idempotency-Key`` on every POST and PATCH."""

from __future__ import annotations

from apispec import BasePlugin

from .idempotency_rules import KEY_HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER

KEY_PARAMETER = {
    "name": KEY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the same key with the same request within 24 hours returns the "
        f"first response again (with `{REPLAYED_HEADER}: true`) and changes nothing; with "
        "another request → 422; while the first still runs → 409. Keys are per tenant; only "
        "a 2xx response is kept, so after an error the key may be used again."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


class IdempotencyPlugin(BasePlugin):
    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method.lower() not in ("post", "patch"):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == KEY_HEADER for p in parameters if isinstance(p, dict)):
                parameters.append(dict(KEY_PARAMETER))
