"""Webhooks: matching, secrets, and the management API (on SQLite and on PostgreSQL):
refused addresses, masked credentials, the per-tenant cap, every event type subscribable."""

from __future__ import annotations

import base64

import pytest

from notify_service import webhooks
from notify_service.bootstrap import SPEC
from notify_service.webhooks import matches, topic_matches
from revisit_common.events import CATALOGUE
from tests.support.client import Client
from tests.support.topics import AMQP_TOPIC_CASES
from tests.support.webhooks import (
    DATABASES,
    SECRET,
    module_runtime,
    register,
    runtime_factory,
    tenant_admin,
)

PROBLEM = "application/problem+json"
URL = "https://dept.example/hook"


@pytest.fixture(scope="module", params=DATABASES)
def shared_runtime(request, tmp_path_factory):
    yield from module_runtime(request, tmp_path_factory)


@pytest.fixture
def admin(shared_runtime):
    return tenant_admin(shared_runtime)


@pytest.fixture(params=DATABASES)
def make_runtime(request, tmp_path):
    yield from runtime_factory(request, tmp_path)


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(("pattern", "key", "expected"), AMQP_TOPIC_CASES)
def test_topic_matching_is_amqp(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def test_webhook_entries_match_types_keys_and_aggregate_verb():
    key = "complaint.raised.product"
    assert matches(["ComplaintRaised"], "ComplaintRaised", key)
    assert not matches(["ComplaintClosed"], "ComplaintRaised", key)
    assert matches(["complaint.*"], "ComplaintRaised", key)  # via "complaint.raised"
    assert matches(["complaint.*.product"], "ComplaintRaised", key)
    assert not matches(["complaint.*.sales", "issue.*"], "ComplaintRaised", key)
    assert matches(["complaint.raised"], "ComplaintRaised", key)
    assert matches(["customer.*"], "CustomerRegistered", "customer.registered")
    assert not matches(["customer.*"], "VisitScheduled", "visit.scheduled")


KNOWN = [
    *CATALOGUE,
    "complaint.*",
    "customer.*",
    "customer.#",
    "visit.*",
    "survey.*",
    "survey.responded",
    "tenant.*",
    "issue.*.product",
    "issue.raised.quality_2",
    "*.*.product",
    "*.registered",
    "#",
    "#.product",
]
UNKNOWN = [
    "CustomerCreated",
    "Complaint Raised",
    "a..b",
    "costumer.*",
    "*",
    "customer.registered.product",
    "visit",
    "complaint.raised.product.extra",
    "survey.*.*",
]


def test_every_catalogue_type_and_its_patterns_are_known():
    assert webhooks.invalid_entries(KNOWN) == []


def test_unknown_types_and_patterns_that_match_nothing_are_invalid():
    assert webhooks.invalid_entries(UNKNOWN) == UNKNOWN


def test_the_queue_binds_every_routing_key_of_the_catalogue():
    for cls in CATALOGUE.values():
        key = cls.routing + (".any_dept" if cls.by_department else "")
        assert any(topic_matches(b, key) for b in SPEC.routing_keys), key
        assert cls.type_name() in SPEC.handlers


def test_signature_is_hmac_sha256_hex():
    body = b"The quick brown fox jumps over the lazy dog"
    assert webhooks.sign("key", body) == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_generated_secrets_are_standard_webhooks_secrets():
    first, second = webhooks.new_secret(), webhooks.new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first[6:], validate=True)) == 32
    assert webhooks.secret_problem(first) is None
    assert webhooks.secret_problem("plain-secret-of-20-chars") is None
    assert "base64" in webhooks.secret_problem("whsec_not base64!!")
    assert "24 to 64" in webhooks.secret_problem("whsec_" + base64.b64encode(b"x" * 8).decode())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ops:s3cr3t@hooks.example/in?x=1", "https://***@hooks.example/in?x=1"),
        ("https://tok-123@hooks.example:8443/", "https://***@hooks.example:8443/"),
        ("http://a%40b:p%3Aw@h.example/p", "http://***@h.example/p"),
        ("https://hooks.example/in?x=1", "https://hooks.example/in?x=1"),
    ],
)
def test_masked_urls(url, shown):
    assert webhooks.masked_url(url) == shown


# --------------------------------------------------------------------------- the API


def test_register_list_get_delete(admin):
    hook = register(admin, URL, department="product")
    assert "secret" not in hook
    assert hook["events"] == ["complaint.*"] and hook["active"] is True
    assert hook["department"] == "product"
    assert [h["id"] for h in admin.get("/api/v1/webhooks").json["items"]] == [hook["id"]]
    assert admin.get(f"/api/v1/webhooks/{hook['id']}").json["url"] == URL
    other = Client(admin.http.application, "tenant-other")
    assert other.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert admin.get("/api/v1/webhooks").json["items"] == []
    gone = admin.get(f"/api/v1/webhooks/{hook['id']}").json
    assert gone["active"] is False and gone["deleted_at"]


def test_a_secret_is_generated_and_shown_once(admin):
    hook = register(admin, URL, secret=None)
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"][6:])) == 32
    again = admin.get(f"/api/v1/webhooks/{hook['id']}")
    assert "secret" not in again.json and hook["secret"] not in again.get_data(as_text=True)
    listed = admin.get("/api/v1/webhooks").get_data(as_text=True)
    assert hook["secret"] not in listed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://x.example/h"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["CustomerCreated"]}, "events"),
        ({"events": ["costumer.*"]}, "events"),
        ({"events": ["ComplaintRaised", "*"]}, "events"),
        ({"events": ["complaint..raised"]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": "whsec_" + "!" * 40}, "secret"),
        ({"department": "Sales Dept"}, "department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_register_validation(admin, change, field):
    body = {"url": URL, "events": ["ComplaintRaised"], "secret": SECRET}
    r = admin.post("/api/v1/webhooks", {**body, **change})
    assert r.status_code == 422
    assert r.content_type == PROBLEM
    assert field in r.json["errors"]


@pytest.mark.parametrize("events", [[name] for name in CATALOGUE] + [[p] for p in KNOWN[-14:]])
def test_every_event_type_may_be_subscribed(admin, events):
    assert register(admin, URL, events)["events"] == events


@pytest.mark.parametrize("role", ["agent", "viewer", "auditor", "department"])
def test_only_admins_and_managers_manage_webhooks(admin, role):
    app = admin.http.application
    caller = Client(
        app, admin.tenant, role=role, department="product" if role == "department" else None
    )
    body = {"url": URL, "events": ["ComplaintRaised"], "secret": SECRET}
    assert caller.post("/api/v1/webhooks", body).status_code == 403
    assert caller.get("/api/v1/webhooks").status_code == 403
    assert (
        Client(app, admin.tenant, role="manager").post("/api/v1/webhooks", body).status_code == 201
    )


INTERNAL_URLS = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.1/hook", "private"),
    ("http://172.20.1.1/hook", "private"),
    ("http://192.168.0.10/hook", "private"),
    ("http://100.64.0.1/hook", "CGNAT"),
    ("http://224.0.0.251/hook", "multicast"),
    ("http://240.0.0.1/hook", "reserved"),
    ("http://0.0.0.0:8080/hook", "unspecified"),
    ("http://[::1]:8080/hook", "loopback"),
    ("http://[::ffff:7f00:1]/hook", "IPv4-mapped"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[fd00::1]/hook", "private"),
    ("http://0x7f000001/hook", "loopback"),
    ("http://2130706433/hook", "loopback"),
    ("http://017700000001/hook", "loopback"),
    ("https://user:pw@10.0.0.1/hook", "private"),
    # Dotted short forms never get as far as the address check: the URL field refuses them.
    ("http://127.1/hook", None),
    ("http://0177.0.0.1/hook", None),
]


@pytest.mark.parametrize(("url", "kind"), INTERNAL_URLS)
def test_internal_addresses_are_refused_at_registration(admin, url, kind):
    r = admin.post("/api/v1/webhooks", {"url": url, "events": ["#"], "secret": SECRET})
    assert r.status_code == 422, r.json
    assert r.content_type == PROBLEM
    article = "an" if kind in ("IPv4-mapped", "unspecified") else "a"
    expected = f"the host is {article} {kind} address; webhooks go to public ones"
    assert r.json["errors"]["url"] == [expected if kind else "Not a valid URL."]
    assert admin.get("/api/v1/webhooks").json["items"] == []


def test_a_name_resolving_to_loopback_is_refused(admin):
    r = admin.post(
        "/api/v1/webhooks", {"url": "http://localhost:9/h", "events": ["#"], "secret": SECRET}
    )
    assert r.status_code == 422
    assert r.json["errors"]["url"] == [
        "the host resolves to a loopback address; webhooks go to public ones"
    ]


def test_the_injected_resolver_judges_names(admin):
    app = admin.http.application
    app.config["WEBHOOK_RESOLVER"] = lambda host, port: ["93.184.216.34", "10.1.2.3"]
    r = admin.post("/api/v1/webhooks", {"url": URL, "events": ["#"], "secret": SECRET})
    assert r.status_code == 422
    assert r.json["errors"]["url"] == [
        "the host resolves to a private address; webhooks go to public ones"
    ]
    app.config["WEBHOOK_RESOLVER"] = lambda host, port: ["93.184.216.34"]
    assert register(admin, URL)["url"] == URL


def test_a_name_that_does_not_resolve_yet_is_accepted(admin):
    admin.http.application.config["WEBHOOK_RESOLVER"] = _no_answer
    assert register(admin, "https://hooks.nowhere.invalid/h")["active"] is True


def _no_answer(host, port):
    raise OSError("Name or service not known")


def test_the_operator_switch_admits_private_addresses(make_runtime):
    _, client = make_runtime(environment={"REVISIT_WEBHOOK_ALLOW_PRIVATE": "true"})
    for url, _kind in INTERNAL_URLS[:3]:
        assert register(client, url)["url"] == url


def test_credentials_in_urls_are_never_shown(admin):
    url = "https://dept-user:pa55-w0rd@dept.example/in?x=1"
    created = register(admin, url)
    shown = "https://***@dept.example/in?x=1"
    assert created["url"] == shown
    listed = admin.get("/api/v1/webhooks")
    assert [h["url"] for h in listed.json["items"]] == [shown]
    item = admin.get(f"/api/v1/webhooks/{created['id']}")
    assert item.json["url"] == shown
    for response in (listed, item):
        text = response.get_data(as_text=True)
        assert "pa55-w0rd" not in text and "dept-user" not in text


def test_a_tenant_has_at_most_the_configured_number_of_webhooks(make_runtime):
    runtime, client = make_runtime(environment={"REVISIT_WEBHOOKS_PER_TENANT": "2"})
    first = register(client, URL)
    register(client, URL)
    r = client.post("/api/v1/webhooks", {"url": URL, "events": ["#"], "secret": SECRET})
    assert r.status_code == 409
    assert r.content_type == PROBLEM
    assert "(2)" in r.json["detail"]
    assert register(Client(runtime.create_app(), "tenant-b"), URL)["active"] is True
    assert client.delete(f"/api/v1/webhooks/{first['id']}").status_code == 204
    assert register(client, URL)["active"] is True  # a deleted webhook frees its place
    assert len(client.get("/api/v1/webhooks").json["items"]) == 2


def test_the_default_cap_is_20(admin):
    for _ in range(20):
        register(admin, URL)
    assert register(admin, URL, status=409)["status"] == 409
