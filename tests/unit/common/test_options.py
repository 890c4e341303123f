"""Settings read the environment once; each service reads its own options from that copy;
the fault points are armed from Settings, never from the environment at the call."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from revisit_common import faults
from revisit_common.config import Settings
from revisit_common.env import flag, integer, number, positive
from revisit_common.runtime import ServiceRuntime, ServiceSpec
from tests.support import fake_service
from tests.support.settings import make_settings

ENV = {
    "REVISIT_ADMIN_TOKEN": "rva_secret-of-the-platform",
    "REVISIT_RATE_LIMIT": "10/second",
    "REVISIT_BIND": "127.0.0.1:9001",
    "REVISIT_WEB_THREADS": "3",
    "REVISIT_FAULT_INJECT": "consumer_after_commit:5",
    "PROMETHEUS_MULTIPROC_DIR": "/tmp/metrics",
    "HOME": "/root",
}


def test_settings_keep_a_copy_of_the_revisit_environment():
    settings = Settings.from_env(ENV)
    assert settings.environment == {k: v for k, v in ENV.items() if k.startswith("REVISIT_")}
    assert (settings.bind, settings.web_threads) == ("127.0.0.1:9001", 3)
    assert settings.prometheus_multiproc_dir == "/tmp/metrics"
    assert settings.fault_inject == "consumer_after_commit:5"
    assert "rva_secret-of-the-platform" not in repr(settings)
    defaults = Settings.from_env({})
    assert (defaults.bind, defaults.web_threads, defaults.fault_inject) == (None, None, "")


def test_bad_values_name_their_variable():
    assert integer({}, "REVISIT_X", 7) == 7 and number({"REVISIT_X": "2.5"}, "REVISIT_X", 1) == 2.5
    assert flag({"REVISIT_X": "Yes"}, "REVISIT_X") and not flag({}, "REVISIT_X")
    with pytest.raises(ValueError, match="REVISIT_WEB_THREADS must be an integer"):
        Settings.from_env({"REVISIT_WEB_THREADS": "many"})
    with pytest.raises(ValueError, match="REVISIT_X must be positive"):
        positive({"REVISIT_X": "0"}, "REVISIT_X", 1)


class Seen:
    """Options of a test service: what it was given, and its job's interval."""

    interval = 0.01

    def __init__(self, env):
        self.env = dict(env)

    @classmethod
    def from_env(cls, env):
        return cls(env)


def test_a_runtime_builds_its_options_from_the_settings_and_times_jobs_by_them(tmp_path):
    ran = threading.Event()
    spec = ServiceSpec(
        name="test",
        title="options",
        migrations=fake_service.MIGRATIONS,
        options=Seen,
        periodic=((lambda rt: rt.options.interval, lambda rt: ran.set()),),
    )
    settings = make_settings(data_dir=tmp_path, environment={"REVISIT_RATE_LIMIT": "1/second"})
    runtime = ServiceRuntime(spec, settings)
    stop = threading.Event()
    try:
        assert runtime.options.env == {"REVISIT_RATE_LIMIT": "1/second"}
        runtime.start_workers(stop)
        assert ran.wait(timeout=5)
    finally:
        stop.set()
        for thread in runtime.threads:
            thread.join(timeout=5)
        runtime.close()
    plain = ServiceRuntime(replace(spec, options=None, periodic=()), settings)
    assert plain.options is None
    plain.close()


def test_fault_points_are_armed_from_a_spec():
    try:
        faults.arm("relay_after_confirm, consumer_after_commit:5")
        faults.fault_point("consumer_before_commit")  # not armed: nothing happens
        assert faults.parse("relay_after_confirm,consumer_after_commit:5") == {
            "relay_after_confirm": 1,
            "consumer_after_commit": 5,
        }
        with pytest.raises(ValueError, match="REVISIT_FAULT_INJECT"):
            faults.arm("consumer_after_commit:fifth")
    finally:
        faults.arm("")
    assert faults.parse("") == {}
