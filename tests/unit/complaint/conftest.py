from __future__ import annotations

import pytest

from complaint_service.bootstrap import SPEC
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

from .support import TOKEN, Client


@pytest.fixture
def runtime(tmp_path):
    rt = ServiceRuntime(SPEC, Settings(data_dir=tmp_path, internal_token=TOKEN))
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app)
