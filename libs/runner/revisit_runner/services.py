"""Every backend service revisit has, by name. Adding a service is one line here."""

from __future__ import annotations

from complaint_service.bootstrap import SPEC as COMPLAINT
from customer_service.bootstrap import SPEC as CUSTOMER
from gateway_service.bootstrap import SPEC as GATEWAY
from kpi_service.bootstrap import SPEC as KPI
from notify_service.bootstrap import SPEC as NOTIFY
from revisit_common.runtime import ServiceSpec
from survey_service.bootstrap import SPEC as SURVEY
from visit_service.bootstrap import SPEC as VISIT

BACKENDS: dict[str, ServiceSpec] = {
    "customer": CUSTOMER,
    "visit": VISIT,
    "complaint": COMPLAINT,
    "survey": SURVEY,
    "kpi": KPI,
    "notify": NOTIFY,
}
ALL: dict[str, ServiceSpec] = {"gateway": GATEWAY, **BACKENDS}
