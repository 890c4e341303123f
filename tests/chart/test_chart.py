"""charts/revisit: lint, render with every values file, validate every object against the
Kubernetes API schemas, and check the policies the chart promises (ARCHITECTURE.md,
"Deployment across regions" and "Tenancy and security")."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.support.artefacts import (
    BACKENDS,
    CHART,
    DASHBOARD_FILE,
    KUBE_FLOOR,
    REGIONS,
    RELEASE,
    RULES_FILE,
    SERVICES,
    VALUES_FILES,
    by_kind,
    containers,
    env_names,
    matches,
    need_module,
    pod_spec,
    render,
    rendered_objects,
    unread,
    values_for,
)

CRDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
values_files = pytest.mark.parametrize("values_file", VALUES_FILES, ids=lambda v: v or "defaults")


def workloads(objs: list[dict]) -> list[dict]:
    """The Deployments and Jobs among ``objs``: the objects that run containers."""
    return [obj for obj in objs if obj["kind"] in {"Deployment", "Job"}]


def web_name(service: str) -> str:
    return f"{RELEASE}-{service}"


def worker_name(service: str) -> str:
    return f"{RELEASE}-{service}-worker"


# ------------------------------------------------------------------------- lint and schema


def test_lint_has_no_errors_or_warnings():
    helm_python = need_module("helm_python", "lints the chart")
    kube = need_module("kubernetes_validate", "knows the newest Kubernetes version")
    for values_file in VALUES_FILES:
        report = helm_python.lint(
            str(CHART),
            values_for(values_file),
            strict=True,
            kube_version=f"v{kube.latest_version()}.0",
        )
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert not report["errors"] and not problems, (values_file, report)


def test_schema_rejects_a_misspelt_key():
    helm_python = need_module("helm_python", "renders the chart")
    with pytest.raises(helm_python.HelmError, match="regoin"):
        render({"regoin": "cn-east"})
    with pytest.raises(helm_python.HelmError, match="replica"):
        render({"web": {"replica": 3}})
    with pytest.raises(helm_python.HelmError):
        render({"services": {"custmer": {}}})


def test_schema_rejects_latest_and_missing_limits():
    helm_python = need_module("helm_python", "renders the chart")
    with pytest.raises(helm_python.HelmError):
        render({"image": {"repository": "revisit", "tag": "latest"}})
    with pytest.raises(helm_python.HelmError):
        render({"worker": {"resources": {"limits": None}}})  # null removes a default


# ------------------------------------------------------------------------- Kubernetes schemas


@values_files
def test_every_object_is_valid_kubernetes(values_file):
    kube = need_module("kubernetes_validate", "validates rendered objects")
    objs = rendered_objects(values_file)
    assert objs
    for version in (KUBE_FLOOR, f"{kube.latest_version()}.0"):
        for obj in objs:
            if (obj["apiVersion"], obj["kind"]) in CRDS:
                continue  # not in the Kubernetes API: checked by test_monitoring_objects
            try:
                kube.validate(obj, version, strict=True)
            except kube.ValidationError as exc:
                pytest.fail(f"{obj['kind']} {obj['metadata']['name']} on {version}: {exc}")


@values_files
def test_monitoring_objects(values_file):
    """The CRDs Kubernetes cannot validate for us: the ServiceMonitor selects every
    Service with a metrics port, the PrometheusRule carries the rules file as it is, the
    dashboard ConfigMap carries the dashboard as it is, with the sidecar's label."""
    objs = rendered_objects(values_file)
    monitors = by_kind(objs, "ServiceMonitor")
    assert len(monitors) == 1
    monitor = next(iter(monitors.values()))
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["revisit"]}
    assert spec["sampleLimit"] == 100000  # values.yaml: the kpi cardinality budget
    ports = {e["port"] for e in spec["endpoints"]}
    assert ports == {"http", "metrics"}
    for endpoint in spec["endpoints"]:
        assert endpoint["path"] == "/metrics"
        assert endpoint["honorLabels"] is True
        # /metrics wants the release's metrics token (the Secret every pod reads it from)
        assert endpoint["bearerTokenSecret"]["key"] == "REVISIT_METRICS_TOKEN"
        relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
        assert relabel["region"]["replacement"] == values_for(values_file).get("region", "local")
    scraped = {
        name
        for name, svc in by_kind(objs, "Service").items()
        if matches(spec["selector"], svc["metadata"]["labels"])
    }
    expected = {web_name(s) for s in SERVICES} | {worker_name(s) for s in SERVICES}
    assert scraped == expected
    for name in scraped:
        svc_ports = {p["name"] for p in by_kind(objs, "Service")[name]["spec"]["ports"]}
        assert svc_ports & ports, name

    rules = by_kind(objs, "PrometheusRule")
    assert len(rules) == 1
    rule = next(iter(rules.values()))
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load(RULES_FILE.read_text())
    for group in rule["spec"]["groups"]:
        assert group["name"] and group["rules"]
        for r in group["rules"]:
            assert ("record" in r) != ("alert" in r) and r["expr"]

    boards = [
        cm
        for cm in by_kind(objs, "ConfigMap").values()
        if "grafana_dashboard" in cm["metadata"]["labels"]
    ]
    assert len(boards) == 1
    assert boards[0]["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(boards[0]["data"]["revisit.json"]) == json.loads(DASHBOARD_FILE.read_text())


def test_region_labels_for_the_operator():
    """A region's values set the labels its Prometheus operator selects on."""
    objs = rendered_objects("values-cn-east.yaml")
    for kind in ("ServiceMonitor", "PrometheusRule"):
        (obj,) = by_kind(objs, kind).values()
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"


# ------------------------------------------------------------------------- shape


@values_files
def test_a_web_and_a_worker_deployment_per_service(values_file):
    objs = rendered_objects(values_file)
    deployments = by_kind(objs, "Deployment")
    expected = {web_name(s) for s in SERVICES} | {worker_name(s) for s in SERVICES}
    assert set(deployments) == expected
    services = by_kind(objs, "Service")
    assert set(services) == expected
    for name, svc in services.items():
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert matches({"matchLabels": svc["spec"]["selector"]}, pod_labels), name
        for other, deployment in deployments.items():
            if other != name:
                other_labels = deployment["spec"]["template"]["metadata"]["labels"]
                assert not matches({"matchLabels": svc["spec"]["selector"]}, other_labels)
    for deployment in deployments.values():
        assert matches(
            deployment["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"]
        )


@values_files
def test_commands_are_the_entry_points(values_file):
    deployments = by_kind(rendered_objects(values_file), "Deployment")
    for service in SERVICES:
        (web,) = pod_spec(deployments[web_name(service)])["containers"]
        assert web["command"] == [
            "gunicorn",
            "--config",
            "python:revisit_runner.gunicorn_conf",
            f'revisit_runner.web:app("{service}")',
        ]
        (worker,) = pod_spec(deployments[worker_name(service)])["containers"]
        assert worker["command"][:3] == ["python", "-m", "revisit_runner.worker"]
        assert worker["command"][-1] == service
    (job,) = by_kind(rendered_objects(values_file), "Job").values()
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["command"] == ["python", "-m", "revisit_runner.migrate", "all"]
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert "pre-upgrade" in hooks and "post-install" in hooks


@values_files
def test_pdb_and_hpa_per_web_deployment(values_file):
    objs = rendered_objects(values_file)
    deployments = by_kind(objs, "Deployment")
    pdbs = by_kind(objs, "PodDisruptionBudget")
    hpas = by_kind(objs, "HorizontalPodAutoscaler")
    for service in SERVICES:
        name = web_name(service)
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs.values() if matches(p["spec"]["selector"], pod_labels)]
        assert len(covering) == 1, name
        target = hpas[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert hpas[name]["spec"]["minReplicas"] <= hpas[name]["spec"]["maxReplicas"]
        assert "replicas" not in deployments[name]["spec"]  # the HPA owns it


def test_autoscaling_off_sets_replicas():
    from tests.support.artefacts import objects

    objs = objects(render({"web": {"autoscaling": {"enabled": False}, "replicas": 3}}))
    assert not by_kind(objs, "HorizontalPodAutoscaler")
    assert by_kind(objs, "Deployment")[web_name("kpi")]["spec"]["replicas"] == 3
    assert len(by_kind(objs, "PodDisruptionBudget")) == len(SERVICES)


# ------------------------------------------------------------------------- pod policies


@values_files
def test_images_are_tagged_and_never_latest(values_file):
    for obj in workloads(rendered_objects(values_file)):
        for container in containers(obj):
            image = container["image"]
            name, _, tag = image.rpartition(":")
            assert name and tag and "/" not in tag, image
            assert tag != "latest", image


@values_files
def test_pods_run_as_non_root_with_a_read_only_root(values_file):
    for obj in workloads(rendered_objects(values_file)):
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for container in containers(obj):
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == 10001
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts  # gunicorn's and prometheus-client's files


@values_files
def test_resources_and_probes(values_file):
    for obj in workloads(rendered_objects(values_file)):
        for container in containers(obj):
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (obj["metadata"]["name"], kind)
        if obj["kind"] != "Deployment":
            continue
        (container,) = containers(obj)
        assert "livenessProbe" in container, obj["metadata"]["name"]
        if obj["metadata"]["labels"]["app.kubernetes.io/component"] == "web":
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["ports"][0]["containerPort"] == 8000


# ------------------------------------------------------------------------- network


@values_files
def test_only_the_gateway_has_an_ingress(values_file):
    objs = rendered_objects(values_file)
    ingresses = by_kind(objs, "Ingress")
    assert len(ingresses) == 1
    (ingress,) = ingresses.values()
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {web_name("gateway")}
    paths = {p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert "/metrics" not in paths and "/" not in paths
    assert {"/api", "/console", "/healthz"} <= paths  # the API, the staff console, health
    for svc in by_kind(objs, "Service").values():
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"


def _allowed_peers(objs: list[dict], pod_labels: dict, port_name: str) -> list[list[dict]] | None:
    """The ingress peers allowed to reach a pod on a port: None means nobody restricts it
    (no policy selects the pod), [[]] inside means "from anywhere"."""
    policies = [
        p
        for p in by_kind(objs, "NetworkPolicy").values()
        if matches(p["spec"]["podSelector"], pod_labels) and "Ingress" in p["spec"]["policyTypes"]
    ]
    if not policies:
        return None
    allowed = []
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if ports and port_name not in ports:
                continue
            allowed.append(rule.get("from", []))
    return allowed


CUSTOMER_READERS = ("complaint", "visit", "survey")


@values_files
def test_network_policies(values_file):
    objs = rendered_objects(values_file)
    deployments = by_kind(objs, "Deployment")
    labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
    gateway_labels = labels[web_name("gateway")]
    prometheus = values_for(values_file).get("networkPolicy", {}).get("prometheus") or {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    # A default deny for every pod of the release.
    deny = [
        p
        for p in by_kind(objs, "NetworkPolicy").values()
        if not p["spec"].get("ingress") and p["spec"]["policyTypes"] == ["Ingress"]
    ]
    assert len(deny) == 1
    for name, pod_labels in labels.items():
        assert matches(deny[0]["spec"]["podSelector"], pod_labels), name
    # The gateway: from anywhere.
    assert [] in _allowed_peers(objs, gateway_labels, "http")
    for service in BACKENDS:
        peers = _allowed_peers(objs, labels[web_name(service)], "http")
        assert peers and all(peers), service  # restricted, never "from anywhere"
        flat = [peer for group in peers for peer in group]
        from_pods = [p for p in flat if set(p) == {"podSelector"}]
        assert any(matches(p["podSelector"], gateway_labels) for p in from_pods), service
        for other in BACKENDS:
            # Only reads of what a copy has not heard of yet: a customer, from its owner.
            reaches = any(matches(p["podSelector"], labels[web_name(other)]) for p in from_pods)
            assert reaches is (service == "customer" and other in CUSTOMER_READERS), (
                service,
                other,
            )
        for worker in SERVICES:
            assert not any(
                matches(p["podSelector"], labels[worker_name(worker)]) for p in from_pods
            )
        assert prometheus in flat, service
        assert all(p in (prometheus, *from_pods) for p in flat)
    for service in SERVICES:
        peers = _allowed_peers(objs, labels[worker_name(service)], "metrics")
        assert peers == [[prometheus]], service
        assert _allowed_peers(objs, labels[worker_name(service)], "http") == [], service


# ------------------------------------------------------------------------- configuration


@values_files
def test_every_variable_set_is_read_by_the_code(values_file):
    objs = rendered_objects(values_file)
    for obj in workloads(objs):
        for container in containers(obj):
            extra = unread(env_names(objs, container))
            assert not extra, (obj["metadata"]["name"], extra)
    for cm in by_kind(objs, "ConfigMap").values():
        if "grafana_dashboard" not in cm["metadata"]["labels"]:
            assert not unread(set(cm["data"])), cm["metadata"]["name"]
    for secret in by_kind(objs, "Secret").values():
        assert not unread(set(secret["stringData"])), secret["metadata"]["name"]


@values_files
def test_each_service_gets_its_own_database_and_the_secrets_it_needs(values_file):
    objs = rendered_objects(values_file)
    deployments = by_kind(objs, "Deployment")
    secrets = by_kind(objs, "Secret")
    layout = values_for(values_file).get("postgresql", {}).get("layout", "database-per-service")
    for service in SERVICES:
        for name in (web_name(service), worker_name(service)):
            (container,) = containers(deployments[name])
            refs = {
                e["name"]: e["valueFrom"]["secretKeyRef"]
                for e in container["env"]
                if "valueFrom" in e
            }
            db_key = (
                f"REVISIT_{service.upper()}_DATABASE_URL"
                if layout == "database-per-service"
                else "REVISIT_DATABASE_URL"
            )
            wanted = {"REVISIT_AMQP_URL", "REVISIT_INTERNAL_TOKEN", "REVISIT_METRICS_TOKEN", db_key}
            if service == "gateway":
                wanted.add("REVISIT_ADMIN_TOKEN")
            if name == worker_name("notify"):
                wanted.add("REVISIT_SMTP_URL")  # the emails' server (optional: when set)
            assert set(refs) == wanted, name  # least privilege: nothing more
            for key, ref in refs.items():
                assert ref["key"] == key
                if ref["name"] in secrets and not ref.get("optional"):
                    assert key in secrets[ref["name"]]["stringData"], (name, key)
    (gateway,) = containers(deployments[web_name("gateway")])
    urls = {
        e["name"]: e["value"] for e in gateway["env"] if e["name"].endswith("_URL") and "value" in e
    }
    services = by_kind(objs, "Service")
    for backend in BACKENDS:
        url = urls[f"REVISIT_{backend.upper()}_URL"]
        assert url == f"http://{web_name(backend)}:8000"
        assert web_name(backend) in services


def _config(objs: list[dict]) -> dict:
    (cm,) = [c for c in by_kind(objs, "ConfigMap").values() if "REVISIT_REGION" in c["data"]]
    return cm["data"]


@pytest.mark.parametrize("region", REGIONS)
def test_region_values_set_region_broker_databases_and_host(region):
    values_file = f"values-{region}.yaml"
    values = values_for(values_file)
    objs = rendered_objects(values_file)
    default_objs = rendered_objects(None)
    assert _config(objs)["REVISIT_REGION"] == region
    assert _config(default_objs)["REVISIT_REGION"] == "local"
    for deployment in by_kind(objs, "Deployment").values():
        assert deployment["metadata"]["labels"]["revisit/region"] == region
    (ingress,) = by_kind(objs, "Ingress").values()
    assert ingress["spec"]["rules"][0]["host"] == values["ingress"]["host"]
    assert region in values["ingress"]["host"]
    assert region in values["postgresql"]["host"] and region in values["rabbitmq"]["host"]
    (secret,) = by_kind(objs, "Secret").values()
    data = secret["stringData"]
    assert data["REVISIT_AMQP_URL"].startswith(
        f"amqps://revisit@{values['rabbitmq']['host']}:5671/"
    )
    db_urls = [v for k, v in data.items() if k.endswith("DATABASE_URL")]
    assert db_urls and all(f"@{values['postgresql']['host']}:5432/" in u for u in db_urls)
    if values["postgresql"]["layout"] == "schema-per-service":
        assert set(k for k in data if k.endswith("DATABASE_URL")) == {"REVISIT_DATABASE_URL"}
        assert "REVISIT_DB_SCHEMA_PREFIX" in _config(objs)


def test_existing_secret_replaces_ours():
    from tests.support.artefacts import objects

    objs = objects(render({"secrets": {"existingSecret": "made-by-the-platform-team"}}))
    assert not by_kind(objs, "Secret")
    for obj in workloads(objs):
        for container in containers(obj):
            for env in container.get("env", []):
                if "valueFrom" in env:
                    assert env["valueFrom"]["secretKeyRef"]["name"] == "made-by-the-platform-team"
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] == "made-by-the-platform-team"


def test_per_service_overrides():
    from tests.support.artefacts import objects

    objs = objects(
        render(
            {
                "services": {
                    "kpi": {
                        "web": {"autoscaling": {"enabled": False}, "replicas": 1},
                        "worker": {"replicas": 0, "resources": {"limits": {"memory": "1Gi"}}},
                    }
                }
            }
        )
    )
    assert web_name("kpi") not in by_kind(objs, "HorizontalPodAutoscaler")
    assert web_name("visit") in by_kind(objs, "HorizontalPodAutoscaler")
    deployments = by_kind(objs, "Deployment")
    assert deployments[web_name("kpi")]["spec"]["replicas"] == 1
    assert deployments[worker_name("kpi")]["spec"]["replicas"] == 0
    (worker,) = containers(deployments[worker_name("kpi")])
    assert worker["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}
    assert worker["resources"]["requests"]["cpu"] == "50m"
    (other,) = containers(deployments[worker_name("visit")])
    assert other["resources"]["limits"]["memory"] == "384Mi"


def test_urls_escape_credentials():
    from tests.support.artefacts import objects

    objs = objects(
        render(
            {
                "rabbitmq": {"password": "p@ss/word"},
                "postgresql": {"password": "s3cr#t"},
                "secrets": {"internalToken": "i" * 40, "adminToken": "a" * 40},
            }
        )
    )
    (secret,) = by_kind(objs, "Secret").values()
    data = secret["stringData"]
    assert data["REVISIT_AMQP_URL"] == "amqp://revisit:p%40ss%2Fword@rabbitmq:5672/%2F"
    assert data["REVISIT_KPI_DATABASE_URL"] == (
        "postgresql://revisit:s3cr%23t@postgresql:5432/revisit_kpi?sslmode=prefer"
    )
    assert data["REVISIT_INTERNAL_TOKEN"] == "i" * 40


def test_names_follow_the_release():
    from tests.support.artefacts import objects

    objs = objects(render({}, release="eu"))
    (gateway,) = containers(by_kind(objs, "Deployment")["eu-gateway"])
    urls = {e["name"]: e.get("value") for e in gateway["env"]}
    assert urls["REVISIT_KPI_URL"] == "http://eu-kpi:8000"
    assert "eu-kpi-worker" in by_kind(objs, "Deployment")
