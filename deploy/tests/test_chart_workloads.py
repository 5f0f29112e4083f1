"""Every pod is locked down and probed; commands are those of docs/CONVENTIONS.md."""

from __future__ import annotations

import shlex

import pytest
from chart_support import (
    METRICS_PORT,
    VALUE_SETS,
    WEB_COMPONENTS,
    all_containers,
    by_name,
    conventions_commands,
    of_kind,
    pod_templates,
    render,
    without_gunicorn_config,
)


def _effective(container: dict, pod_spec: dict, key: str):
    """A security setting as Kubernetes applies it: the container's, else the pod's."""
    container_context = container.get("securityContext") or {}
    if key in container_context:
        return container_context[key]
    return (pod_spec.get("securityContext") or {}).get(key)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_container_including_init_and_jobs_is_locked_down(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    checked = 0
    for owner, pod_spec in pod_templates(objects):
        name = owner["metadata"]["name"]
        assert pod_spec["automountServiceAccountToken"] is False, name
        assert pod_spec["securityContext"]["runAsNonRoot"] is True, name
        assert pod_spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in all_containers(pod_spec):
            where = f"{owner['kind']} {name} / {container['name']}"
            context = container["securityContext"]
            assert _effective(container, pod_spec, "runAsNonRoot") is True, where
            assert _effective(container, pod_spec, "runAsUser") not in (None, 0), where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context.get("privileged", False) is False, where
            assert _effective(container, pod_spec, "seccompProfile") == {"type": "RuntimeDefault"}
            assert container["resources"]["requests"].keys() >= {"cpu", "memory"}, where
            assert container["resources"]["limits"].keys() >= {"cpu", "memory"}, where
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_read_only_containers_get_a_writable_tmp(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    for owner, pod_spec in pod_templates(objects):
        volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
        for container in all_containers(pod_spec):
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{owner['metadata']['name']}/{container['name']}"
            volume = volumes[mounts["/tmp"]]
            assert "emptyDir" in volume


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_long_running_container_has_liveness_and_readiness_probes(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    for owner in of_kind(objects, "Deployment") + of_kind(objects, "StatefulSet"):
        for container in owner["spec"]["template"]["spec"]["containers"]:
            where = f"{owner['metadata']['name']}/{container['name']}"
            assert "livenessProbe" in container, where
            assert "readinessProbe" in container, where
            for probe in ("livenessProbe", "readinessProbe"):
                assert container[probe]["timeoutSeconds"] >= 1, where
                assert container[probe]["periodSeconds"] >= 5, where


def test_web_services_probe_health_for_liveness_and_ready_for_readiness(default_objects):
    for component in WEB_COMPONENTS:
        deployment = by_name(default_objects, "Deployment", f"shop-ecommerce-{component}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["startupProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            get = container[probe]["httpGet"]
            assert get["port"] == "http"
            # Django must accept the probe's Host header.
            assert {"name": "Host", "value": "localhost"} in get["httpHeaders"]
        assert container["ports"] == [
            {
                "name": "http",
                "containerPort": container["ports"][0]["containerPort"],
                "protocol": "TCP",
            },
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ]


def test_probe_host_is_allowed_by_django(rendered_sets):
    for value_set in ("autoscaling-and-tls", "existing-secret"):
        objects, _ = rendered_sets[value_set]
        config = by_name(objects, "ConfigMap", "shop-ecommerce-config")
        hosts = config["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
        assert "localhost" in hosts
        assert "shop-ecommerce-user-service" in hosts
    objects, _ = rendered_sets["autoscaling-and-tls"]
    config = by_name(objects, "ConfigMap", "shop-ecommerce-config")
    assert "shop.example.com" in config["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "*" not in config["data"]["DJANGO_ALLOWED_HOSTS"]


def test_web_commands_are_the_conventions_gunicorn_commands(default_objects):
    table = conventions_commands()
    ports = {
        "user-service": 8001,
        "product-service": 8002,
        "order-service": 8003,
        "integration-service": 8004,
    }
    for component, module in WEB_COMPONENTS.items():
        deployment = by_name(default_objects, "Deployment", f"shop-ecommerce-{component}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        part = (
            module
            if module != "integration_service"
            else next(p for p in table if p.startswith("integration_service"))
        )
        assert without_gunicorn_config(container["command"]) == shlex.split(table[part])
        assert container["command"][1:3] == ["-c", "/app/deploy/gunicorn.conf.py"]
        assert container["workingDir"] == f"/app/{module}"
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PORT"] == str(ports[component])
        assert container["ports"][0]["containerPort"] == ports[component]


def test_worker_runs_the_conventions_command_and_is_pinged_for_liveness(default_objects):
    table = conventions_commands()
    deployment = by_name(default_objects, "Deployment", "shop-ecommerce-integration-worker")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    convention = shlex.split(table["integration worker"])
    assert container["command"][: len(convention)] == convention
    assert container["workingDir"] == "/app/integration_service"
    # The node name the probe addresses is the one the worker is started with.
    hostname = container["command"][container["command"].index("--hostname") + 1]
    assert hostname == "celery@%h"
    liveness = container["livenessProbe"]
    script = liveness["exec"]["command"]
    assert script[:2] == ["sh", "-c"]
    assert "celery -A integration_service inspect ping" in script[2]
    assert '--destination "celery@${HOSTNAME}"' in script[2]
    ping_timeout = int(script[2].rsplit("--timeout", 1)[1].split()[0])
    # The kubelet must wait longer than the ping itself (plus Python start-up).
    assert liveness["timeoutSeconds"] > ping_timeout + 5
    assert liveness["failureThreshold"] >= 2
    readiness = container["readinessProbe"]["exec"]["command"]
    assert readiness[:3] == ["python", "-m", "events.liveness"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert "CELERY_BROKER_URL" in env


def test_beat_is_one_replica_replaced_by_recreate(rendered_sets):
    table = conventions_commands()
    for value_set in VALUE_SETS:
        objects, _ = rendered_sets[value_set]
        beat = by_name(objects, "Deployment", "shop-ecommerce-integration-beat")
        assert beat["spec"]["replicas"] == 1
        assert beat["spec"]["strategy"] == {"type": "Recreate"}
        (container,) = beat["spec"]["template"]["spec"]["containers"]
        convention = shlex.split(table["scheduler"])
        assert container["command"][: len(convention)] == convention
        schedule = container["command"][container["command"].index("--schedule") + 1]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert schedule.rsplit("/", 1)[0] in mounts, "beat's schedule must be on a writable volume"
        targets = [
            h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")
        ]
        assert "shop-ecommerce-integration-beat" not in targets


def test_services_wait_for_their_migrations_before_starting(default_objects):
    for deployment in of_kind(default_objects, "Deployment"):
        (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
        assert init["name"] == "wait-for-migrations"
        assert "python manage.py migrate --check" in init["command"][2]


def test_waiting_for_migrations_can_be_turned_off():
    objects, _ = render({"waitForMigrations": False})
    for deployment in of_kind(objects, "Deployment"):
        assert "initContainers" not in deployment["spec"]["template"]["spec"]


def test_in_chart_stores_are_statefulsets_with_persistent_volumes(default_objects):
    stores = {s["metadata"]["name"]: s for s in of_kind(default_objects, "StatefulSet")}
    assert set(stores) == {
        "shop-ecommerce-postgresql",
        "shop-ecommerce-mongodb",
        "shop-ecommerce-rabbitmq",
    }
    for name, store in stores.items():
        assert store["spec"]["replicas"] == 1
        (claim,) = store["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert claim["spec"]["resources"]["requests"]["storage"]
        (container,) = store["spec"]["template"]["spec"]["containers"]
        assert {"name": "data", "mountPath": container["volumeMounts"][0]["mountPath"]} == (
            container["volumeMounts"][0]
        )
        assert store["spec"]["serviceName"] == f"{name}-headless"
        by_name(default_objects, "Service", f"{name}-headless")
        assert ":" in container["image"]
        assert not container["image"].endswith(":latest")


def test_postgresql_runs_its_init_script_as_a_program(default_objects):
    store = by_name(default_objects, "StatefulSet", "shop-ecommerce-postgresql")
    volumes = {v["name"]: v for v in store["spec"]["template"]["spec"]["volumes"]}
    # Sourced (not executed), a non-executable script would run inside the entrypoint's shell.
    assert volumes["init"]["configMap"]["defaultMode"] == 0o555
    config = by_name(default_objects, "ConfigMap", "shop-ecommerce-postgresql-init")
    (script,) = config["data"].values()
    assert script.startswith("#!/bin/bash")
    for variable in ("USERS_DB_PASSWORD", "ORDERS_DB_PASSWORD", "INTEGRATION_DB_PASSWORD"):
        assert f'"${variable}"' in script
    env = {e["name"] for e in store["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {"USERS_DB_PASSWORD", "ORDERS_DB_NAME", "INTEGRATION_DB_USER"} <= env


def test_pods_roll_when_their_settings_or_secrets_change(default_objects):
    changed, _ = render({"config": {"logLevel": "DEBUG"}, "admin": {"password": "another-one"}})
    for deployment in of_kind(default_objects, "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        after = by_name(changed, "Deployment", deployment["metadata"]["name"])
        after_annotations = after["spec"]["template"]["metadata"]["annotations"]
        assert annotations["checksum/config"] != after_annotations["checksum/config"]
        assert annotations["checksum/secret"] != after_annotations["checksum/secret"]


def test_store_persistence_and_class_come_from_values():
    objects, _ = render(
        {"postgresql": {"persistence": {"size": "20Gi", "storageClass": "fast-ssd"}}}
    )
    store = by_name(objects, "StatefulSet", "shop-ecommerce-postgresql")
    (claim,) = store["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "fast-ssd"


def test_external_stores_replace_the_in_chart_ones(rendered_sets):
    objects, _ = rendered_sets["external-stores"]
    assert of_kind(objects, "StatefulSet") == []
    names = {s["metadata"]["name"] for s in of_kind(objects, "Service")}
    assert not any(
        store in name for name in names for store in ("postgresql", "mongodb", "rabbitmq")
    )
    env_of = {}
    for component in WEB_COMPONENTS:
        deployment = by_name(objects, "Deployment", f"shop-ecommerce-{component}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env_of[component] = {e["name"]: e.get("value") for e in container["env"]}
    assert env_of["user-service"]["DATABASE_URL"] == (
        "postgres://shop_users:$(DATABASE_PASSWORD)@pg.databases.example.internal:6432/shop_users"
        "?sslmode=require"
    )
    assert env_of["product-service"]["MONGODB_URI"] == (
        "mongodb://products:$(MONGODB_PASSWORD)@mongo.databases.example.internal:27017"
        "/ecommerce_products?tls=true"
    )
    assert env_of["order-service"]["CELERY_BROKER_URL"] == (
        "amqps://ecommerce:$(RABBITMQ_PASSWORD)@mq.example.internal:5671/ecommerce"
    )


def test_each_store_is_switchable_on_its_own():
    objects, _ = render(
        {
            "mongodb": {"enabled": False},
            "externalMongodb": {"host": "mongo.example.internal", "password": "given"},
        }
    )
    names = {s["metadata"]["name"] for s in of_kind(objects, "StatefulSet")}
    assert names == {"shop-ecommerce-postgresql", "shop-ecommerce-rabbitmq"}


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_auth_records_are_pruned_daily_by_a_cronjob_of_user_service(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]

    [cronjob] = [o for o in objects if o["kind"] == "CronJob"]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert container["command"] == ["python", "manage.py", "prune_auth_records"]
    assert container["workingDir"] == "/app/user_service"
    assert {e["name"] for e in container["env"]} >= {"DATABASE_URL", "DJANGO_SECRET_KEY"}
