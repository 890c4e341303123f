"""Request ids (webapp.py): the caller's plain token kept, anything else replaced by a new
id spelled as ``uuid.uuid4().hex``."""

from __future__ import annotations

import re
import uuid

from revisit_common.webapp import new_request_id, request_id_of


def test_a_new_request_id_is_a_version_4_uuid_in_hex():
    ids = {new_request_id() for _ in range(2000)}
    assert len(ids) == 2000
    for each in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", each)
        parsed = uuid.UUID(hex=each)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert parsed.hex == each


def test_a_plain_token_is_kept_and_anything_else_replaced():
    assert request_id_of({"HTTP_X_REQUEST_ID": "abc-1.2:3_x"}) == "abc-1.2:3_x"
    for sent in ("", "a b", "x" * 129, "é", None):
        environ = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
        made = request_id_of(environ)
        assert made != sent
        assert uuid.UUID(hex=made).version == 4
