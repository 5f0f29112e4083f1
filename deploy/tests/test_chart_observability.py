"""Metrics (scrape annotations, the metrics port, the ServiceMonitor) and Flower in the chart."""

from __future__ import annotations

import base64

import helm_python
import kubernetes_validate
import pytest
from chart_support import (
    APP_COMPONENTS,
    CHART,
    KUBERNETES_VERSION,
    METRICS_PORT,
    WEB_COMPONENTS,
    by_name,
    of_kind,
    render,
    template_of,
)

SCRAPED = APP_COMPONENTS


def _env(container: dict) -> dict[str, object]:
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container["env"]}


def _main_container(objects, component: str) -> dict:
    deployment = by_name(objects, "Deployment", f"shop-ecommerce-{component}")
    return template_of(deployment)["spec"]["containers"][0]


def test_every_web_and_worker_pod_is_annotated_for_scraping_its_metrics_port(default_objects):
    for component in SCRAPED:
        deployment = by_name(default_objects, "Deployment", f"shop-ecommerce-{component}")
        annotations = template_of(deployment)["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(METRICS_PORT)
        assert annotations["prometheus.io/path"] == "/metrics"
        (container,) = template_of(deployment)["spec"]["containers"]
        assert {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"} in container[
            "ports"
        ]
    beat = by_name(default_objects, "Deployment", "shop-ecommerce-integration-beat")
    assert "prometheus.io/scrape" not in template_of(beat)["metadata"]["annotations"]


def test_gunicorn_binds_the_metrics_port_and_the_worker_serves_it_from_shared_files(
    default_objects,
):
    for component in WEB_COMPONENTS:
        assert _env(_main_container(default_objects, component))["METRICS_PORT"] == "9100"
    worker = _env(_main_container(default_objects, "integration-worker"))
    assert worker["WORKER_METRICS_PORT"] == "9100"
    assert worker["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"  # the writable emptyDir


def test_the_ingress_never_routes_the_metrics_port(rendered_sets):
    for objects, _ in rendered_sets.values():
        for ingress in of_kind(objects, "Ingress"):
            for rule in ingress["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    assert path["backend"]["service"]["port"] == {"name": "http"}
                    assert path["path"] != "/metrics"
        for service in of_kind(objects, "Service"):
            names = {port["name"] for port in service["spec"]["ports"]}
            component = service["metadata"]["labels"]["app.kubernetes.io/component"]
            if component in SCRAPED:
                assert "metrics" in names
            if component == "integration-worker":
                assert names == {"metrics"}


def test_only_the_scrapers_reach_the_metrics_port(default_objects):
    scrapers = [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    for component in SCRAPED:
        policy = by_name(default_objects, "NetworkPolicy", f"shop-ecommerce-{component}")
        rules = [
            rule
            for rule in policy["spec"]["ingress"]
            if METRICS_PORT in [port["port"] for port in rule["ports"]]
        ]
        assert rules == [{"from": scrapers, "ports": [{"port": METRICS_PORT, "protocol": "TCP"}]}]

    objects, _ = render({"metrics": {"scrapers": []}})
    policy = by_name(objects, "NetworkPolicy", "shop-ecommerce-integration-worker")
    assert policy["spec"]["ingress"] == [{"ports": [{"port": METRICS_PORT, "protocol": "TCP"}]}]


def test_metrics_can_be_turned_off():
    objects, _ = render({"metrics": {"enabled": False}})
    for component in WEB_COMPONENTS:
        container = _main_container(objects, component)
        assert "METRICS_PORT" not in _env(container)
        assert [port["name"] for port in container["ports"]] == ["http"]
    services = {s["metadata"]["name"] for s in of_kind(objects, "Service")}
    assert "shop-ecommerce-integration-worker" not in services
    worker = by_name(objects, "NetworkPolicy", "shop-ecommerce-integration-worker")
    assert worker["spec"]["ingress"] == []


def test_the_service_monitor_is_optional_and_scrapes_every_metrics_port():
    objects, _ = render({})
    assert of_kind(objects, "ServiceMonitor") == []

    objects, _ = render(
        {
            "metrics": {
                "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "kps"}}
            }
        }
    )
    (monitor,) = of_kind(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
    ]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["shop-prod"]}
    selector = monitor["spec"]["selector"]
    selected = [
        service
        for service in of_kind(objects, "Service")
        if all(
            service["metadata"]["labels"].get(k) == v for k, v in selector["matchLabels"].items()
        )
        and service["metadata"]["labels"]["app.kubernetes.io/component"]
        in selector["matchExpressions"][0]["values"]
    ]
    assert {s["metadata"]["labels"]["app.kubernetes.io/component"] for s in selected} == set(
        SCRAPED
    )
    for service in selected:
        assert "metrics" in {port["name"] for port in service["spec"]["ports"]}


def test_flower_is_off_by_default(default_objects):
    names = {o["metadata"]["name"] for o in default_objects}
    assert not any("flower" in name for name in names)


def test_flower_runs_behind_basic_auth_from_the_secret_and_is_not_routed_by_default():
    objects, _ = render({"flower": {"enabled": True}})
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    container = _main_container(objects, "flower")
    assert container["command"][:4] == ["celery", "-A", "integration_service", "flower"]
    env = _env(container)
    assert env["BASIC_AUTH_PASSWORD"] == {
        "secretKeyRef": {"name": "shop-ecommerce", "key": "flower-password"}
    }
    assert env["FLOWER_BASIC_AUTH"] == "admin:$(BASIC_AUTH_PASSWORD)"
    names = [entry["name"] for entry in container["env"]]
    assert names.index("BASIC_AUTH_PASSWORD") < names.index("FLOWER_BASIC_AUTH")
    secret = by_name(objects, "Secret", "shop-ecommerce")
    assert len(base64.b64decode(secret["data"]["flower-password"])) == 24
    service = by_name(objects, "Service", "shop-ecommerce-flower")
    assert service["spec"]["type"] == "ClusterIP"
    assert [i["metadata"]["name"] for i in of_kind(objects, "Ingress")] == ["shop-ecommerce"]
    policy = by_name(objects, "NetworkPolicy", "shop-ecommerce-flower")
    assert policy["spec"]["ingress"] == []
    rabbitmq = by_name(objects, "NetworkPolicy", "shop-ecommerce-rabbitmq")
    admitted = rabbitmq["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]
    assert "flower" in admitted["values"]


def test_flower_on_its_own_host_admits_only_the_ingress_controller(rendered_sets):
    objects, _ = rendered_sets["autoscaling-and-tls"]
    ingress = by_name(objects, "Ingress", "shop-ecommerce-flower")
    assert ingress["spec"]["rules"][0]["host"] == "flower.shop.example.com"
    assert ingress["spec"]["tls"][0]["hosts"] == ["flower.shop.example.com"]
    policy = by_name(objects, "NetworkPolicy", "shop-ecommerce-flower")
    (rule,) = policy["spec"]["ingress"]
    assert "namespaceSelector" in rule["from"][0]
    assert rule["ports"] == [{"port": 5555, "protocol": "TCP"}]


def test_flower_needs_a_host_to_be_routed_and_uses_a_given_password():
    with pytest.raises(Exception, match=r"flower\.ingress\.host"):
        render({"flower": {"enabled": True, "ingress": {"enabled": True}}})
    objects, _ = render({"flower": {"enabled": True, "password": "given-flower-pw"}})
    secret = by_name(objects, "Secret", "shop-ecommerce")
    assert base64.b64decode(secret["data"]["flower-password"]) == b"given-flower-pw"


@pytest.mark.parametrize(
    "values",
    [
        {"metrics": {"port": 0}},
        {"metrics": {"serviceMonitor": {"interval": "often"}}},
        {"flower": {"username": "with:colon"}},
        {"flower": {"ingress": {"public": True}}},
    ],
)
def test_bad_metrics_and_flower_values_are_refused(values):
    with helm_python.Chart.load(CHART) as chart, pytest.raises(Exception):  # noqa: PT011
        chart.validate_schema(values)
