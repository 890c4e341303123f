"""Rate limits at the gateway: per API key or token, per client IP without one (failures
apart); 429 with Retry-After."""

from __future__ import annotations

import time

import pytest

from gateway_service import ratelimit
from gateway_service.options import GatewayOptions
from revisit_common.config import Settings
from tests.support.client import ADMIN, Api

ANSWERS = {"answers": {"overall": 4}}


def _limited(r) -> bool:
    if r.status_code != 429:
        return False
    assert r.content_type == "application/problem+json"
    assert r.json["status"] == 429
    retry_after = int(r.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    return True


def test_a_key_over_its_limit_gets_429_with_retry_after(make_system):
    admin = Api(make_system(environment={"REVISIT_RATE_LIMIT": "5/minute"})).new_tenant()
    other = admin.as_key(admin.new_key("viewer"))  # a request of admin's: 1
    answers = [admin.get(path) for path in ("/customers", "/visits", "/kpis", "/customers")]
    assert [r.status_code for r in answers] == [200] * 4  # 5 in all, across routes
    r = admin.get("/complaints")
    assert _limited(r)
    assert r.headers["X-Request-ID"]
    assert _limited(admin.post("/customers", {"name": "x"}))  # writes too
    # the limit is the key's, not the tenant's
    assert other.get("/customers").status_code == 200


def test_refused_calls_count_too(make_system):
    admin = Api(make_system(environment={"REVISIT_RATE_LIMIT": "3/minute"})).new_tenant()
    viewer = admin.as_key(admin.new_key("viewer"))
    assert [viewer.get("/api-keys").status_code for _ in range(3)] == [403] * 3
    assert _limited(viewer.get("/customers"))


def test_calls_without_a_credential_count_per_client_ip(make_system):
    system = make_system(environment={"REVISIT_RATE_LIMIT_ANONYMOUS": "2/minute"})
    platform = Api(system)
    assert platform.get("/openapi.json").status_code == 200  # 1
    assert platform.post("/survey-responses/no-such-token", ANSWERS).status_code == 404  # 2
    assert _limited(platform.post("/survey-responses/no-such-token", ANSWERS))
    assert _limited(platform.get("/openapi.json"))
    # another client address is counted apart
    other_ip = system.app.test_client()
    other_ip.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other_ip.get("/api/v1/openapi.json").status_code == 200


def test_refused_credentials_count_per_client_ip_apart(make_system):
    system = make_system(environment={"REVISIT_RATE_LIMIT_ANONYMOUS": "2/minute"})
    platform = Api(system)
    assert platform.as_key("rvk_guess-1").get("/customers").status_code == 401  # 1
    assert platform.get("/customers").status_code == 401  # 2: no key at all
    for attempt in (
        platform.as_key("rvk_guess-2").get("/customers"),
        platform.as_key("not-the-platform-token").post("/tenants", {"name": "Guess"}),
    ):
        assert _limited(attempt)
    # not the anonymous calls' counter, nor the platform token's, nor a key's
    assert platform.get("/openapi.json").status_code == 200
    admin = platform.new_tenant()
    assert admin.get("/customers").status_code == 200
    other_ip = system.app.test_client()
    other_ip.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other_ip.get("/api/v1/customers").status_code == 401


def test_failed_authentication_never_uses_a_valid_credentials_budget(make_system):
    """CONTRACT §4.2, with the default limits: 200 garbage credentials from one address,
    then that address's platform token and keys work."""
    defaults = GatewayOptions()
    system = make_system(
        environment={
            "REVISIT_RATE_LIMIT": defaults.rate_limit,
            "REVISIT_RATE_LIMIT_ANONYMOUS": defaults.rate_limit_anonymous,
        }
    )
    per_ip = int(defaults.rate_limit_anonymous.split("/")[0])
    platform = Api(system)
    before = platform.new_tenant("Before")
    garbage = []
    for n in range(200):  # garbage API keys and garbage platform tokens, from one address
        guess = platform.as_key(f"rvk_garbage-{n:03d}")
        r = guess.get("/customers") if n % 2 else guess.post("/tenants", {"name": "Guess"})
        garbage.append(r.status_code)
    assert garbage == [401] * per_ip + [429] * (200 - per_ip)
    assert _limited(r)
    r = platform.as_key(ADMIN).post("/tenants", {"name": "After"})
    assert r.status_code == 201, r.json
    after = platform.as_key(r.json["admin_key"])
    assert after.get("/customers").status_code == 200
    assert before.get("/customers").status_code == 200
    assert _limited(platform.as_key("rvk_garbage-again").get("/customers"))


def test_forwarded_for_counts_only_behind_trusted_proxies(make_system):
    def attempts(system, count):
        client = system.app.test_client()
        return [
            client.get("/api/v1/customers", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(count)
        ]

    spoofable = make_system(environment={"REVISIT_RATE_LIMIT_ANONYMOUS": "2/minute"})
    assert [r.status_code for r in attempts(spoofable, 3)] == [401, 401, 429]
    proxied = make_system(
        environment={"REVISIT_RATE_LIMIT_ANONYMOUS": "2/minute", "REVISIT_TRUSTED_PROXIES": "1"}
    )
    assert [r.status_code for r in attempts(proxied, 3)] == [401, 401, 401]


def test_operations_endpoints_are_not_limited(make_system):
    system = make_system(environment={"REVISIT_RATE_LIMIT_ANONYMOUS": "1/minute"})
    client = system.app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
        assert metrics.status_code == 200


def test_the_window_passes(make_system):
    admin = Api(make_system(environment={"REVISIT_RATE_LIMIT": "2/second"})).new_tenant()
    admin.get("/customers")
    admin.get("/customers")
    r = admin.get("/customers")
    assert _limited(r)
    time.sleep(int(r.headers["Retry-After"]) + 0.05)
    assert admin.get("/customers").status_code == 200


def test_limits_can_be_turned_off(make_system):
    admin = Api(
        make_system(
            environment={"REVISIT_RATE_LIMIT": "off", "REVISIT_RATE_LIMIT_ANONYMOUS": "off"}
        )
    ).new_tenant()
    assert all(admin.get("/customers").status_code == 200 for _ in range(30))
    assert "gateway_limiter" not in admin.http.application.extensions


def test_limits_can_be_turned_off_for_one_kind_of_caller(make_system):
    system = make_system(
        environment={"REVISIT_RATE_LIMIT": "off", "REVISIT_RATE_LIMIT_ANONYMOUS": "2/minute"}
    )
    admin = Api(system).new_tenant()  # the platform token: not limited either
    assert all(admin.get("/customers").status_code == 200 for _ in range(10))
    assert [Api(system).get("/customers").status_code for _ in range(2)] == [401, 401]
    assert _limited(Api(system).get("/customers"))


def test_limited_writes_are_not_audited(make_system):
    admin = Api(make_system(environment={"REVISIT_RATE_LIMIT": "3/minute"})).new_tenant()
    reader = admin.as_key(admin.new_key("admin"))  # 1: a write, recorded
    assert admin.post("/customers", {"name": "x"}).status_code == 422  # 2: recorded
    assert admin.get("/customers").status_code == 200  # 3: a read
    assert _limited(admin.post("/customers", {"name": "x"}))  # not recorded
    entries = reader.get("/audit-log").json["items"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/api/v1/tenants", 201),
        ("POST", "/api/v1/api-keys", 201),
        ("POST", "/api/v1/customers", 422),
    ]


def test_settings_from_the_environment():
    environment = Settings.from_env(
        {
            "REVISIT_RATE_LIMIT": "10/second;300/minute",
            "REVISIT_RATE_LIMIT_ANONYMOUS": "30/minute",
            "REVISIT_RATE_LIMIT_STORAGE_URL": "redis://cache:6379/0",
            "REVISIT_TRUSTED_PROXIES": "2",
        }
    ).environment
    settings = GatewayOptions.from_env(environment)
    assert settings.rate_limit == "10/second;300/minute"
    assert settings.rate_limit_anonymous == "30/minute"
    assert settings.rate_limit_storage_url == "redis://cache:6379/0"
    assert settings.trusted_proxies == 2
    defaults = GatewayOptions.from_env({})
    assert (defaults.rate_limit, defaults.rate_limit_anonymous) == ("6000/minute", "120/minute")
    assert defaults.rate_limit_storage_url == "memory://"
    assert defaults.trusted_proxies == 0
    with pytest.raises(ValueError, match="REVISIT_TRUSTED_PROXIES"):
        GatewayOptions.from_env({"REVISIT_TRUSTED_PROXIES": "two"})


@pytest.mark.parametrize("value", ["lots", "10 per fortnight", "-1/minute"])
def test_a_bad_limit_stops_the_start(value):
    with pytest.raises(ValueError, match="REVISIT_RATE_LIMIT"):
        ratelimit.check_limit("REVISIT_RATE_LIMIT", value)


@pytest.mark.parametrize("value", ["600/minute", "10/second;600/minute", "off", "OFF"])
def test_good_limits_pass(value):
    ratelimit.check_limit("REVISIT_RATE_LIMIT", value)
