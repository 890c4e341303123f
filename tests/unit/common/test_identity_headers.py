"""The identity the gateway vouches for (identity.py): one Identity per set of headers,
made once and served again; refused without the internal token, a tenant or a known role."""

from __future__ import annotations

from revisit_common import identity
from revisit_common.identity import Identity, identity_of

TOKEN = "internal-token"


def environ_of(who: Identity, token: str = TOKEN) -> dict:
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in who.headers(token).items()}


def test_the_same_headers_give_the_same_identity_object():
    who = Identity("tenant-a", "agent", "key-1", "sales", settings_version=3, staff="s-1")
    first = identity_of(environ_of(who), TOKEN)
    assert first == who
    assert identity_of(environ_of(who), TOKEN) is first
    other = Identity("tenant-b", "agent", "key-1", "sales", settings_version=3, staff="s-1")
    assert identity_of(environ_of(other), TOKEN) == other


def test_defaults_of_absent_or_empty_headers():
    environ = environ_of(Identity("tenant-a", "viewer", ""))
    assert identity_of(environ, TOKEN) == Identity("tenant-a", "viewer", "viewer")
    environ["HTTP_X_REVISIT_SETTINGS_VERSION"] = "１２"  # (not ASCII digits: no version)
    assert identity_of(environ, TOKEN).settings_version is None


def test_refused_without_the_token_a_tenant_or_a_known_role_every_time():
    good = environ_of(Identity("tenant-a", "admin", "key-1"))
    assert identity_of(good, "another-token") is None
    assert identity_of(good, None) is None
    for change in ({"HTTP_X_REVISIT_TENANT": ""}, {"HTTP_X_REVISIT_ROLE": "root"}):
        for _ in range(2):  # (the refusal kept is a refusal again)
            assert identity_of({**good, **change}, TOKEN) is None


def test_the_identities_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(identity, "_seen", {})
    monkeypatch.setattr(identity, "_SEEN_MAX", 3)
    for n in range(10):
        who = Identity(f"tenant-{n}", "admin", "key")
        assert identity_of(environ_of(who), TOKEN) == who
        assert len(identity._seen) <= 3
