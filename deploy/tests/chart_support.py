"""Shared helpers for the deployment tests: render the chart with Helm's own engine.

No cluster and no Docker engine are needed: helm-python-sdk embeds Helm's Go SDK
(lint, schema validation, template rendering), and kubernetes-validate checks each
rendered object against the OpenAPI schema of a current Kubernetes release.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import yaml

DEPLOY = Path(__file__).resolve().parent.parent
REPO = DEPLOY.parent
CHART = DEPLOY / "helm" / "ecommerce"
KUBERNETES_VERSION = kubernetes_validate.latest_version()

# metrics.port in values.yaml: /metrics of every web and worker pod.
METRICS_PORT = 9100
SERVICES = ("user_service", "product_service", "order_service", "integration_service")
WEB_COMPONENTS = {
    "user-service": "user_service",
    "product-service": "product_service",
    "order-service": "order_service",
    "integration-service": "integration_service",
}
# The web services and the worker: one NetworkPolicy, disruption budget and scrape target each.
APP_COMPONENTS = (*WEB_COMPONENTS, "integration-worker")

EXTERNAL_STORES: dict[str, Any] = {
    "postgresql": {"enabled": False},
    "externalPostgresql": {
        "host": "pg.databases.example.internal",
        "port": 6432,
        "sslmode": "require",
        "databases": {
            "users": {"name": "shop_users", "username": "shop_users", "password": "pw-users-given"},
            "orders": {
                "name": "shop_orders",
                "username": "shop_orders",
                "password": "pw-orders-given",
            },
            "integration": {
                "name": "shop_integration",
                "username": "shop_integration",
                "password": "pw-integration-given",
            },
        },
    },
    "mongodb": {"enabled": False},
    "externalMongodb": {
        "host": "mongo.databases.example.internal",
        "password": "pw-mongo-given",
        "options": "tls=true",
    },
    "rabbitmq": {"enabled": False},
    "externalRabbitmq": {
        "host": "mq.example.internal",
        "port": 5671,
        "password": "pw-rabbit-given",
        "tls": True,
    },
}

SCALED_WITH_TLS: dict[str, Any] = {
    "ingress": {
        "host": "shop.example.com",
        "className": "nginx",
        "tls": {"enabled": True, "secretName": "shop-example-com-tls"},
        "docs": {
            "enabled": True,
            "hosts": {
                "userService": "docs-users.shop.example.com",
                "productService": "docs-products.shop.example.com",
                "orderService": "docs-orders.shop.example.com",
            },
        },
    },
    **{
        key: {
            "autoscaling": {
                "enabled": True,
                "minReplicas": 3,
                "maxReplicas": 9,
                "targetCPUUtilizationPercentage": 65,
                "targetMemoryUtilizationPercentage": 80,
            }
        }
        for key in ("userService", "productService", "orderService")
    },
    "worker": {
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 6,
            "targetCPUUtilizationPercentage": 75,
        }
    },
    "flower": {"enabled": True, "ingress": {"enabled": True, "host": "flower.shop.example.com"}},
}

EXISTING_SECRET: dict[str, Any] = {
    "secrets": {"existingSecret": "shop-credentials"},
    "postgresql": {"enabled": False},
    "externalPostgresql": {"host": "pg.example.internal"},
    "ingress": {"enabled": False},
    "networkPolicy": {"enabled": False},
}

IN_CHART_REDIS: dict[str, Any] = {
    "redis": {"enabled": True, "maxMemory": "200mb", "keyPrefix": "shop-eu"},
}

EXTERNAL_REDIS: dict[str, Any] = {
    **EXTERNAL_STORES,
    "externalRedis": {
        "enabled": True,
        "url": "rediss://:pw-redis-given@cache.example.internal:6380/3",
    },
}

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "external-stores": EXTERNAL_STORES,
    "autoscaling-and-tls": SCALED_WITH_TLS,
    "existing-secret": EXISTING_SECRET,
    "in-chart-redis": IN_CHART_REDIS,
    "external-redis": EXTERNAL_REDIS,
}


def render(
    values: dict[str, Any] | None = None,
    *,
    name: str = "shop",
    namespace: str = "shop-prod",
) -> tuple[list[dict[str, Any]], str]:
    """Render the chart; return its objects (in template order) and NOTES.txt."""
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(copy.deepcopy(values or {}), name=name, namespace=namespace)
    objects: list[dict[str, Any]] = []
    notes = ""
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            notes = rendered[path]
            continue
        for document in yaml.safe_load_all(rendered[path]):
            if document:
                document.setdefault("metadata", {}).setdefault("annotations", {})
                objects.append(document)
    return objects, notes


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def template_of(owner: dict[str, Any]) -> dict[str, Any]:
    """The pod template of a workload (a CronJob's is inside its job template)."""
    spec = owner["spec"]["jobTemplate"]["spec"] if owner["kind"] == "CronJob" else owner["spec"]
    return spec["template"]


def pod_templates(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(owner object, pod spec) of every workload that runs pods."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob"):
            yield obj, template_of(obj)["spec"]


def all_containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec["containers"])


def secret_values(objects: list[dict[str, Any]]) -> set[str]:
    """Every decoded value of every rendered Secret."""
    values: set[str] = set()
    for secret in of_kind(objects, "Secret"):
        for encoded in (secret.get("data") or {}).values():
            values.add(base64.b64decode(encoded).decode())
        values.update((secret.get("stringData") or {}).values())
    return values


def conventions_commands() -> dict[str, str]:
    """The process table of docs/CONVENTIONS.md: part -> command."""
    text = (REPO / "docs" / "CONVENTIONS.md").read_text()
    section = text.split("## Processes and ports", 1)[1].split("\n## ", 1)[0]
    table: dict[str, str] = {}
    for row in re.findall(r"^\|([^|]+)\|\s*`([^`]+)`\s*\|", section, flags=re.MULTILINE):
        part, command = row[0].strip(), row[1].strip()
        table[part] = command
    assert table, "docs/CONVENTIONS.md has no process table"
    return table


def without_gunicorn_config(command: list[str]) -> list[str]:
    """The gunicorn command minus `-c <shared config>` (CONVENTIONS lists it without)."""
    if "-c" in command:
        index = command.index("-c")
        assert command[index + 1] == "/app/deploy/gunicorn.conf.py"
        return command[:index] + command[index + 2 :]
    return command
