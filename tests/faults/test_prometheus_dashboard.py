"""The rules and the Grafana dashboard on a real Prometheus (Debian package ``prometheus``)
scraping the native stack: every recording rule and every panel expression, with the
dashboard's variables set to one region and one tenant, returns at least one series; and
no counter falls when a visit is cancelled.

The rules file is loaded as it is shipped, only its groups' ``interval`` shortened (5m is
longer than a test); the stack's gateway, services and workers (which run with the
deployment region and a metrics token: :data:`.harness.REGION`,
:data:`.harness.METRICS_TOKEN`) are scraped every second with the metrics token, ``region``
set on the targets as the chart and compose set it.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date, timedelta

import requests
import yaml

from tests.support.artefacts import RULES_FILE
from tests.support.client import ADMIN, Api, HttpClient
from tests.support.metric_names import dashboard_expressions, recorded_names_defined
from tests.support.servers import unavailable

from .harness import METRICS_TOKEN, REGION, free_port, wait_for

PROMETHEUS = "/usr/bin/prometheus"


def prometheus_config(stack, rules_path) -> dict:
    web = [stack.web_url(s).removeprefix("http://") for s in SERVICES]
    workers = [stack.worker_url(s).removeprefix("http://") for s in SERVICES]
    job = {
        "metrics_path": "/metrics",
        "honor_labels": True,
        "authorization": {"type": "Bearer", "credentials": METRICS_TOKEN},
    }
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules_path)],
        "scrape_configs": [
            {**job, "job_name": "revisit-web", "static_configs": [_targets(web, "web")]},
            {**job, "job_name": "revisit-worker", "static_configs": [_targets(workers, "worker")]},
        ],
    }


SERVICES = ("gateway", "customer", "visit", "complaint", "survey", "kpi", "notify")


def _targets(targets: list[str], role: str) -> dict:
    return {"targets": targets, "labels": {"region": REGION, "role": role}}


def query(base: str, expr: str) -> list[dict]:
    response = requests.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10)
    assert response.status_code == 200, (expr, response.text[:500])
    return response.json()["data"]["result"]


def traffic(api: Api, auditor: str, round_: int) -> str:
    """Customers with purchases, visits (one cancelled), complaints: the same label values
    every round, so that the second round increases series the first one made."""
    visits, cid = [], ""
    for i in range(3):  # a customer has one open repair visit at a time
        customer = api.post(
            "/customers",
            {
                "name": f"Huadong {round_}.{i}",
                "type": "dealer",
                "region": "east",
                "annual_purchase_amount": 1500000,
                "cooperation_start": "2019-03-01",
            },
        )
        assert customer.status_code == 201, customer.json
        cid = customer.json["id"]
        due = (date.today() + timedelta(days=3)).isoformat()
        body = {"customer_id": cid, "reason": "repair", "method": "phone", "due_date": due}
        created = api.post("/visits", body)
        assert created.status_code == 201, created.json
        visits.append(created.json["id"])
    purchase = {"amount": 1000, "product": "pump", "purchased_at": "2026-01-05T10:00:00+08:00"}
    assert api.post(f"/customers/{cid}/purchases", purchase).status_code == 201
    issue = {"category": "product_quality", "description": "noise", "department": "product"}
    done = api.post(
        f"/visits/{visits[0]}/complete",
        {"satisfaction": "satisfied", "recommend_score": 9, "issues": [issue]},
    )
    assert done.status_code == 200, done.json
    issue_id = done.json["issues"][0]["id"]
    assert api.post(f"/issues/{issue_id}/resolve", {"resolution": "fixed"}).status_code == 200
    audited = api.as_key(auditor).post(f"/visits/{visits[0]}/audit", {"accurate": True})
    assert audited.status_code == 200, audited.json
    complaint = {
        "customer_id": cid,
        "channel": "email",
        "severity": "general",
        "category": "quality",
        "department": "product",
        "description": "leaks",
    }
    for resolved in (True, False):  # one resolved in time, one open
        created = api.post("/complaints", complaint)
        assert created.status_code == 201, created.json
        if not resolved:
            continue
        path = f"/complaints/{created.json['id']}/transitions"
        for action in ("acknowledge", "investigate", "propose", "implement"):
            assert api.post(path, {"action": action}).status_code == 200, action
        done = api.post(path, {"action": "resolve", "resolution": "replaced"})
        assert done.status_code == 200, done.json
    return visits[1]


def test_every_rule_and_panel_returns_data_for_a_region_and_tenant(stack, tmp_path):
    if not os.access(PROMETHEUS, os.X_OK):
        unavailable("no /usr/bin/prometheus (Debian package prometheus)")
    # /metrics wants the token everywhere: web, gateway and worker.
    for url in [stack.web_url("kpi"), stack.gateway, stack.worker_url("visit")]:
        assert requests.get(url + "/metrics", timeout=5).status_code == 401
    made = Api(HttpClient(stack.gateway), ADMIN).post("/tenants", {"name": "Dashboard"})
    assert made.status_code == 201, made.json
    tenant = made.json["id"]
    api = Api(HttpClient(stack.gateway), made.json["admin_key"])
    auditor = api.new_key("auditor")
    to_cancel = traffic(api, auditor, 1)

    rules = yaml.safe_load(RULES_FILE.read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    rules_path = tmp_path / "rules.yml"
    rules_path.write_text(yaml.safe_dump(rules))
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(stack, rules_path)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _ready(base), 60, "prometheus ready")
        wait_for(lambda: _all_up(base), 60, "every target scraped")
        kpi_due = f'revisit_visits_due_total{{tenant="{tenant}", region="{REGION}"}}'
        wait_for(lambda: query(base, kpi_due), 60, "the tenant's KPI series scraped")
        traffic(api, auditor, 2)
        cancelled = api.post(f"/visits/{to_cancel}/cancel", {})
        assert cancelled.status_code == 200, cancelled.json
        cancelled_total = f'sum(revisit_visits_cancelled_total{{tenant="{tenant}"}})'
        wait_for(
            lambda: [s for s in query(base, cancelled_total) if float(s["value"][1]) >= 1],
            60,
            "the cancellation scraped",
        )
        missing: list[str] = []

        def everything_answers() -> bool:
            missing.clear()
            for name in sorted(recorded_names_defined()):
                if not query(base, f'{name}{{tenant="{tenant}", region="{REGION}"}}'):
                    missing.append(name)
            for expr in panel_expressions(tenant):
                if not query(base, expr):
                    missing.append(expr)
            return not missing

        wait_for(everything_answers, 90, lambda: f"no data for: {missing}")
        names = requests.get(f"{base}/api/v1/label/__name__/values", timeout=10).json()["data"]
        counters = [n for n in names if n.startswith("revisit_") and n.endswith("_total")]
        assert "revisit_visits_cancelled_total" in counters
        falls = {
            name: query(base, f'resets({name}{{tenant="{tenant}"}}[10m]) > 0') for name in counters
        }
        assert {name: found for name, found in falls.items() if found} == {}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def panel_expressions(tenant: str) -> list[str]:
    out = []
    for expr in dashboard_expressions():
        if expr.startswith("label_values("):
            continue
        expr = (
            expr.replace("$__rate_interval", "1m")
            .replace("$tenant", tenant)  # (a UUID: no regex metacharacters)
            .replace("$region", REGION)
        )
        assert "$" not in expr, expr
        out.append(expr)
    return out


def _ready(base: str) -> bool:
    try:
        return requests.get(base + "/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _all_up(base: str) -> bool:
    up = query(base, "up")
    return len(up) == 2 * len(SERVICES) and all(s["value"][1] == "1" for s in up)
