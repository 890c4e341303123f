"""Every backend service revisit has, by name. Adding a service is one line here."""

from __future__ import annotations

from customer_service.bootstrap import SPEC as CUSTOMER
from gateway_service.bootstrap import SPEC as GATEWAY
from revisit_common.runtime import ServiceSpec

BACKENDS: dict[str, ServiceSpec] = {
    "customer": CUSTOMER,
}
ALL: dict[str, ServiceSpec] = {"gateway": GATEWAY, **BACKENDS}
