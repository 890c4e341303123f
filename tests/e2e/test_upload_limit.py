"""File uploads have a body limit of their own (REVISIT_MAX_UPLOAD_BYTES), larger than every
other request's (REVISIT_MAX_BODY_BYTES): a customer file passes the gateway and the
customer service where a JSON body of the same size is 413."""

from __future__ import annotations

import io

import pytest

from tests.support.client import ADMIN, Api
from tests.support.settings import make_settings
from tests.support.system import start_system

HEADER = "external_id,name,type,region,annual_purchase_amount,cooperation_start\n"


@pytest.fixture
def api(tmp_path):
    settings = make_settings(
        data_dir=tmp_path, admin_token=ADMIN, max_body_bytes=4096, max_upload_bytes=64 * 1024
    )
    system = start_system(settings)
    try:
        yield Api(system).new_tenant("Uploads")
    finally:
        system.close()


def upload(api, content: bytes):
    return api.post(
        "/customers/import?dry_run=true",
        data={"file": (io.BytesIO(content), "customers.csv")},
        content_type="multipart/form-data",
    )


def test_a_file_over_the_body_limit_and_under_the_upload_limit_is_read(api):
    rows = "".join(f"ERP-{i},客户 {i},dealer,east,{1000 + i},2020-01-01\n" for i in range(300))
    content = (HEADER + rows).encode()
    assert 4096 < len(content) < 64 * 1024
    r = upload(api, content)
    assert r.status_code == 200, r.json
    assert r.json == {"created": 300, "updated": 0, "errors": []}
    big = api.post("/customers", {"name": "x" * 5000, "type": "dealer", "region": "east"})
    assert (big.status_code, big.content_type) == (413, "application/problem+json")


def test_a_file_over_the_upload_limit_is_413(api):
    content = (HEADER + "ERP-1,客户,dealer,east,1000,2020-01-01\n" * 3000).encode()
    assert len(content) > 64 * 1024
    r = upload(api, content)
    assert (r.status_code, r.content_type) == (413, "application/problem+json")
