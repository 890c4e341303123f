"""The whole standalone system in this process (gateway + services + workers), and the
customer the end-to-end tests register."""

from __future__ import annotations

from revisit_common.config import Settings
from revisit_runner.standalone import Standalone, build, prepare_settings

CUSTOMER = {
    "name": "Huadong Trading",
    "type": "dealer",
    "region": "east",
    "annual_purchase_amount": 500000,
    "cooperation_start": "2019-03-01",
}


def start_system(settings: Settings) -> Standalone:
    system = build(prepare_settings(settings))
    system.start()
    return system
