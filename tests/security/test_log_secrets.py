"""No secret reaches the logs: API keys (good, bad, revoked), the platform and internal
tokens, survey tokens, webhook secrets and credentials in webhook URLs, while every logger
records at DEBUG through a run of the standalone system that uses all of them."""

from __future__ import annotations

import logging

from tests.support.client import ADMIN, Api
from tests.support.polling import wait_until
from tests.support.system import CUSTOMER

from .catalog import DEPARTMENT, SURVEY

WEBHOOK_SECRET = "whsec-never-in-the-logs-5e1f0c2a9b"
URL_PASSWORD = "url-password-never-logged"
URL_TOKEN = "url-token-never-logged-77aa"
WEBHOOK_URL = f"http://hook-user:{URL_PASSWORD}@127.0.0.1:9/hooks/{URL_TOKEN}?sig={URL_TOKEN}"
GUESSED_KEY = "rvk_guessed-key-never-in-the-logs-0123456789abcdef"
WRONG_PLATFORM_TOKEN = "rva_wrong-platform-token-never-logged"


class Everything(logging.Handler):
    """Keeps every record, formatted with its arguments, extras and traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.getMessage(), repr(record.args), repr(vars(record))]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        self.texts.append("\n".join(parts))


def _log_everything(monkeypatch) -> Everything:
    handler = Everything()
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        monkeypatch.setattr(logger, "level", logging.DEBUG)
        monkeypatch.setattr(logger, "disabled", False)
        if logger is root or not logger.propagate:
            monkeypatch.setattr(logger, "handlers", [*logger.handlers, handler])
    for logger in loggers:
        logger.manager._clear_cache()  # levels changed behind the logging module's back
    return handler


def _scenario(system) -> list[str]:
    """Use every kind of credential, right and wrong; returns the secrets used."""
    platform = Api(system)
    admin = platform.new_tenant("Logged")
    assert platform.as_key(WRONG_PLATFORM_TOKEN).post("/tenants", {"name": "x"}).status_code == 401
    keys = {role: admin.new_key(role) for role in ("manager", "agent", "auditor", "viewer")}
    keys["department"] = admin.new_key("department", DEPARTMENT)
    for role, key in keys.items():
        caller = admin.as_key(key)
        assert caller.get("/customers").status_code == (403 if role == "department" else 200)
        assert caller.get("/api-keys").status_code == 403, role  # "role refused" is logged
    cid = admin.post("/customers", CUSTOMER).json["id"]
    r = admin.post(
        "/webhooks", {"url": WEBHOOK_URL, "events": ["ComplaintRaised"], "secret": WEBHOOK_SECRET}
    )
    assert r.status_code == 201, r.json
    webhook_id = r.json["id"]
    complaint = {
        "customer_id": cid,
        "channel": "phone",
        "severity": "general",
        "category": "delivery",
        "department": DEPARTMENT,
        "description": "late",
    }
    assert admin.post("/complaints", complaint).status_code == 201
    survey = admin.post("/surveys", SURVEY).json["id"]
    token = admin.post(f"/surveys/{survey}/invitations", {"customer_ids": [cid]}).json["items"][0][
        "token"
    ]
    anonymous = Api(admin.http)
    assert anonymous.get(f"/survey-responses/{token}").status_code == 200
    assert (
        anonymous.post(f"/survey-responses/{token}", {"answers": {"overall": 5}}).status_code == 201
    )
    assert (
        anonymous.post(f"/survey-responses/{token}", {"answers": {"overall": 5}}).status_code == 409
    )
    assert anonymous.post(f"/survey-responses/{token[::-1]}", {"answers": {}}).status_code == 404
    assert admin.as_key(GUESSED_KEY).get("/customers").status_code == 401
    viewer_id = next(k["id"] for k in admin.get("/api-keys").json["items"] if k["role"] == "viewer")
    assert admin.delete(f"/api-keys/{viewer_id}").status_code == 204
    assert admin.as_key(keys["viewer"]).get("/customers").status_code == 401
    for _ in range(9):  # 3 failures above, 12 in all: the per-IP limit; the next is logged
        assert admin.as_key(GUESSED_KEY).get("/customers").status_code == 401
    assert admin.as_key(GUESSED_KEY).get("/customers").status_code == 429

    def attempted():
        items = admin.get(f"/webhooks/{webhook_id}/deliveries").json["items"]
        return items and items[0]["attempts"] >= 1

    wait_until(attempted, timeout=10.0)  # a failed delivery is logged
    internal = system.runtimes["gateway"].internal_token
    return [
        ADMIN,
        WRONG_PLATFORM_TOKEN,
        internal,
        admin.key,
        *keys.values(),
        GUESSED_KEY,
        token,
        WEBHOOK_SECRET,
        URL_PASSWORD,
        URL_TOKEN,
    ]


def test_no_secret_in_any_log_record(make_system, monkeypatch, capfd):
    system = make_system(environment={"REVISIT_RATE_LIMIT_ANONYMOUS": "12/minute"})
    handler = _log_everything(monkeypatch)
    secrets = _scenario(system)
    out, err = capfd.readouterr()
    texts = handler.texts
    assert len(texts) > 20  # the loggers really were listening
    assert any("role refused" in t for t in texts)
    assert any("webhook delivery" in t for t in texts)
    leaks = [(s, t[:300]) for s in secrets for t in [*texts, out, err] if s in t]
    assert not leaks, "secrets in the logs:\n" + "\n".join(map(str, leaks))
