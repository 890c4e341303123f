"""Issue #3 and #4 acceptance: the follow-up, complaint and survey loops through the
gateway, standalone in one process (memory bus, SQLite): within 2 seconds."""

from __future__ import annotations

import pytest

from tests.support.client import ADMIN, Api
from tests.support.settings import make_settings
from tests.support.smtp import running_smtp
from tests.support.system import start_system

from .loops import (
    complaint_loop,
    day_at_work_loop,
    follow_up_loop,
    policy_inputs_loop,
    survey_loop,
)


@pytest.fixture
def api(tmp_path, unique_prefix):
    system = start_system(
        make_settings(data_dir=tmp_path, admin_token=ADMIN, queue_prefix=unique_prefix)
    )
    yield Api(system).new_tenant()
    system.close()


def test_follow_up_loop(api):
    follow_up_loop(api, kpi_timeout=2.0)


def test_complaint_loop(api):
    complaint_loop(api, timeout=2.0)


def test_survey_loop(api):
    survey_loop(api, timeout=2.0)


def test_policy_inputs_loop(api):
    policy_inputs_loop(api, timeout=2.0)


def test_day_at_work_loop(tmp_path, unique_prefix):
    """Issue #14 standalone: the email leaves from the notify worker of the one process."""
    with running_smtp() as smtp:
        settings = make_settings(
            data_dir=tmp_path,
            admin_token=ADMIN,
            queue_prefix=unique_prefix,
            environment={"REVISIT_SMTP_URL": smtp.url},
        )
        system = start_system(settings)
        try:
            day_at_work_loop(Api(system).new_tenant(), smtp.mailbox, timeout=30)
        finally:
            system.close()
