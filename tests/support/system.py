"""The whole standalone system in this process (gateway + services + workers), and the
customer the end-to-end tests register."""

from __future__ import annotations

from revisit_common.clock import Clock, now
from revisit_common.config import Settings
from revisit_runner.services import BACKENDS, GATEWAY
from revisit_runner.standalone import Standalone, build, prepare_settings

from . import pg_templates, sqlite_templates

CUSTOMER = {
    "name": "Huadong Trading",
    "type": "dealer",
    "region": "east",
    "annual_purchase_amount": 500000,
    "cooperation_start": "2019-03-01",
}


def start_system(settings: Settings, clock: Clock = now) -> Standalone:
    """The standalone system on ``settings``, started; ``clock``: the instant its use cases
    see (a fixed one keeps a scenario's dates in its past whatever the day)."""
    sqlite_templates.seed(settings, [*BACKENDS.values(), GATEWAY])
    pg_templates.seed(settings, [*BACKENDS.values(), GATEWAY])
    system = build(prepare_settings(settings), clock)
    system.start()
    return system
