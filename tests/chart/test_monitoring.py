"""The Prometheus rules and the Grafana dashboard (charts/revisit/files/, shared by the chart
and docker-compose.yml): the metric names they use are the contract's, every KPI ratio has a
recording rule, the alerts exist and behave (promtool), and the dashboard is well formed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.support.artefacts import CHART, DEPLOY, RULES_FILE, need_program
from tests.support.metric_names import (
    dashboard,
    dashboard_expressions,
    metric_names_used,
    recorded_names_defined,
    recorded_names_used,
    rule_groups,
)

HERE = Path(__file__).resolve().parent

# CONTRACT.md §3, plus the per-service and kpi gauges agreed for the alerts, and the counters
# of the policies' own KPIs (issue #13).
ALLOWED_METRICS = {
    "revisit_visits_due_total",
    "revisit_visits_cancelled_total",
    "revisit_visits_completed_total",
    "revisit_visits_completed_on_time_total",
    "revisit_visit_ratings_total",
    "revisit_issues_raised_total",
    "revisit_issues_resolved_total",
    "revisit_visit_audits_total",
    "revisit_complaints_raised_total",
    "revisit_complaints_resolved_total",
    "revisit_purchases_total",
    "revisit_units_sold_total",
    "revisit_complaint_resolve_limits_total",
    "revisit_complaints_resolved_within_limit_total",
    "revisit_complaints_open",
    "revisit_visits_overdue",
    "revisit_http_requests_total",
    "revisit_http_request_duration_seconds_bucket",
    "revisit_http_request_duration_seconds_sum",
    "revisit_http_request_duration_seconds_count",
    "revisit_outbox_pending",
    "revisit_events_consumed_total",
    "revisit_dead_letters_total",
    "revisit_complaints_due_soon",
    "revisit_complaints_overdue",
    "revisit_events_published_total",
    "revisit_publish_failures_total",
}
KPI_RATIOS = {
    "revisit:visit_completion:ratio30d",
    "revisit:visit_satisfaction:ratio30d",
    "revisit:issue_resolution:ratio30d",
    "revisit:visit_record_accuracy:ratio30d",
    "revisit:complaint_timeliness:ratio30d",
    "revisit:complaint_incidence:ratio30d",
    "revisit:complaint_on_time:ratio30d",
    "revisit:complaint_incidence_per_unit:ratio30d",
    "revisit:visit_rollout:ratio30d",
}
ALERTS = {
    "RevisitComplaintDeadlinesAtRisk",
    "RevisitComplaintsOverdue",
    "RevisitVisitsOverdue",
    "RevisitDeadLettersGrowing",
    "RevisitOutboxBacklog",
    "RevisitVisitCompletionBelowTarget",
    "RevisitRepairVisitsBelowRollout",
    "RevisitNewCustomerVisitsBelowRollout",
}


def rules() -> list[dict]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def test_only_contract_metric_names_are_used():
    used = metric_names_used()
    assert used, "no metric names found: the extraction is broken"
    assert used <= ALLOWED_METRICS, used - ALLOWED_METRICS


def test_metric_name_extraction():
    from tests.support.metric_names import names_in

    assert names_in(
        'sum(rate(revisit_http_requests_total{job="revisit_web"}[5m])) / revisit:x:y'
    ) == {"revisit_http_requests_total"}


def test_every_kpi_ratio_has_a_recording_rule_and_every_recorded_name_is_defined():
    defined = recorded_names_defined()
    assert defined >= KPI_RATIOS
    assert recorded_names_used() <= defined, recorded_names_used() - defined
    for rule in rules():
        if "record" in rule:
            assert re.fullmatch(r"revisit:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), rule["record"]
            if rule["record"].endswith(":increase30d"):
                assert re.search(r"by \(tenant, region(, reason)?\)", rule["expr"]), rule["expr"]


def test_the_alerts_exist_with_severity_and_text():
    alerts = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    assert set(alerts) >= ALERTS
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
    dead = alerts["RevisitDeadLettersGrowing"]["expr"]
    assert "increase(revisit_dead_letters_total[15m])" in dead and dead.endswith("> 0")
    backlog = alerts["RevisitOutboxBacklog"]["expr"]
    assert "revisit_outbox_pending" in backlog and re.search(r"> \d+$", backlog)
    assert alerts["RevisitOutboxBacklog"]["for"] == "10m"


def test_promtool_checks_the_rules():
    promtool = need_program("promtool", "Debian package prometheus")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES_FILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_rules():
    """tests/chart/promtool/rules_test.yml and kpi_rules_test.yml: the ratios' values,
    replicas counted once, and when each alert fires."""
    promtool = need_program("promtool", "Debian package prometheus")
    result = subprocess.run(
        [promtool, "test", "rules", "rules_test.yml", "kpi_rules_test.yml"],
        cwd=HERE / "promtool",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_checks_the_compose_prometheus_config(tmp_path):
    promtool = need_program("promtool", "Debian package prometheus")
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "revisit.yml").write_text(RULES_FILE.read_text())
    config["rule_files"] = [str(tmp_path / "rules" / "*.yml")]
    token = tmp_path / "metrics-token"  # what compose mounts at /etc/prometheus/metrics-token
    token.write_text((DEPLOY / "prometheus/metrics-token").read_text())
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_compose_scrapes_as_the_chart_within_the_kpi_budget():
    """Compose's Prometheus scrapes the services with the chart's interval, timeout and
    sample limit, and the limit holds the kpi budget (40 series a tenant, README "Metrics")
    for 2,000 tenants beside the process series."""
    chart = yaml.safe_load((CHART / "values.yaml").read_text())["monitoring"]["serviceMonitor"]
    assert chart["sampleLimit"] >= 40 * 2000
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert config["global"]["scrape_interval"] == chart["interval"]
    assert config["global"]["scrape_timeout"] == chart["scrapeTimeout"]
    revisit = [job for job in config["scrape_configs"] if job["job_name"].startswith("revisit")]
    assert [job["sample_limit"] for job in revisit] == [chart["sampleLimit"]] * 2


def test_promtool_parses_every_dashboard_query(tmp_path):
    """Each panel's PromQL, with Grafana's variables filled in, as a recording rule."""
    promtool = need_program("promtool", "Debian package prometheus")
    exprs = []
    for expr in dashboard_expressions():
        if expr.startswith("label_values("):
            continue  # Grafana's own function, not PromQL
        expr = (
            expr.replace("$__rate_interval", "5m").replace("$tenant", ".*").replace("$region", ".*")
        )
        assert "$" not in expr, expr
        exprs.append(expr)
    assert len(exprs) > 20
    groups = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"dashboard:q{i}", "expr": e} for i, e in enumerate(exprs)],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(groups))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_structure():
    board = dashboard()
    assert board["uid"] == "revisit-overview" and board["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert {"tenant", "region"} <= set(variables)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(p["title"].lower() for p in board["panels"])
    for word in (
        "completion",
        "satisfaction",
        "issue resolution",
        "accuracy",
        "timeliness",
        "net satisfaction",
        "overdue visits",
        "open complaints",
        "p99",
        "outbox",
        "consumed",
        "dead letters",
    ):
        assert word in titles, word
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
    # Business panels are filtered by the tenant and region variables.
    for expr in dashboard_expressions():
        business = "revisit:" in expr or re.search(
            r"revisit_(visit|issue|complaint|purchase)", expr
        )
        if business and not expr.startswith("label_values("):
            assert "$tenant" in expr and "$region" in expr, expr
