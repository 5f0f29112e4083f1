"""Any release name and namespace work, and every reference points at a rendered object."""

from __future__ import annotations

from urllib.parse import urlsplit

import helm_python
import pytest
from chart_support import (
    APP_COMPONENTS,
    VALUE_SETS,
    all_containers,
    by_name,
    of_kind,
    pod_templates,
    render,
    template_of,
)


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _pod_labels(objects):
    return [
        (owner["metadata"]["name"], template_of(owner)["metadata"]["labels"])
        for owner, _ in pod_templates(objects)
    ]


@pytest.mark.parametrize(
    ("release", "namespace", "prefix"),
    [
        ("shop", "shop-prod", "shop-ecommerce"),
        ("blue-2", "team-a", "blue-2-ecommerce"),
        ("ecommerce", "default", "ecommerce"),
        ("my-ecommerce-staging", "staging", "my-ecommerce-staging"),
    ],
)
def test_any_release_name_and_namespace_render_consistent_names(release, namespace, prefix):
    objects, notes = render({}, name=release, namespace=namespace)
    for obj in objects:
        assert obj["metadata"]["name"].startswith(prefix), obj["metadata"]["name"]
        assert obj["metadata"]["namespace"] == namespace
        assert len(obj["metadata"]["name"]) <= 63
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == release
    assert f'release "{release}"' in notes
    config = by_name(objects, "ConfigMap", f"{prefix}-config")
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    for variable, component in (
        ("USER_SERVICE_URL", "user-service"),
        ("PRODUCT_SERVICE_URL", "product-service"),
        ("ORDER_SERVICE_URL", "order-service"),
    ):
        url = urlsplit(config["data"][variable])
        assert url.hostname == f"{prefix}-{component}"
        assert url.hostname in services, f"{variable} names no rendered Service"
        assert url.port in {p["port"] for p in services[url.hostname]["spec"]["ports"]}


def test_every_connection_url_in_a_pod_names_a_rendered_service():
    objects, _ = render({}, name="blue-2", namespace="team-a")
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    seen = set()
    for _, pod_spec in pod_templates(objects):
        for container in all_containers(pod_spec):
            for entry in container.get("env", []):
                value = entry.get("value") or ""
                if entry["name"] not in ("DATABASE_URL", "MONGODB_URI", "CELERY_BROKER_URL"):
                    continue
                url = urlsplit(value.replace("$(", "").replace(")", ""))
                assert url.hostname in services, f"{entry['name']}={value}"
                assert url.port in {p["port"] for p in services[url.hostname]["spec"]["ports"]}
                seen.add(entry["name"])
    assert seen == {"DATABASE_URL", "MONGODB_URI", "CELERY_BROKER_URL"}


def test_two_releases_in_one_namespace_share_no_object_name():
    first, _ = render({}, name="blue", namespace="shop")
    second, _ = render({}, name="green", namespace="shop")
    first_names = {(o["kind"], o["metadata"]["name"]) for o in first}
    second_names = {(o["kind"], o["metadata"]["name"]) for o in second}
    assert first_names.isdisjoint(second_names)


def test_a_long_release_name_is_cut_to_valid_names():
    objects, _ = render({}, name="a" * 53, namespace="ns")
    for obj in objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name
        assert not name.endswith("-"), name
    assert len({(o["kind"], o["metadata"]["name"]) for o in objects}) == len(objects)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_service_selects_pods_and_targets_a_named_port(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    pods = _pod_labels(objects)
    for service in of_kind(objects, "Service"):
        selector = service["spec"]["selector"]
        owners = [name for name, labels in pods if _matches(selector, labels)]
        assert len(owners) == 1, f"{service['metadata']['name']} selects {owners}"
        owner = next(o for o, _ in pod_templates(objects) if o["metadata"]["name"] == owners[0])
        port_names = {
            p["name"]
            for c in owner["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_referenced_secret_configmap_and_account_is_rendered(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    existing_secret = VALUE_SETS[value_set].get("secrets", {}).get("existingSecret")
    secrets = {s["metadata"]["name"]: set(s["data"]) for s in of_kind(objects, "Secret")}
    config_maps = {c["metadata"]["name"]: set(c["data"]) for c in of_kind(objects, "ConfigMap")}
    accounts = {a["metadata"]["name"] for a in of_kind(objects, "ServiceAccount")}
    for owner, pod_spec in pod_templates(objects):
        assert pod_spec["serviceAccountName"] in accounts
        for volume in pod_spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
        for container in all_containers(pod_spec):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if not ref:
                    continue
                if existing_secret:
                    assert ref["name"] == existing_secret
                else:
                    assert ref["key"] in secrets[ref["name"]], (
                        f"{ref} in {owner['metadata']['name']}"
                    )
    if existing_secret:
        assert of_kind(objects, "Secret") == []


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_interpolated_urls_only_use_variables_defined_before_them(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    for _, pod_spec in pod_templates(objects):
        for container in all_containers(pod_spec):
            defined: set[str] = set()
            for entry in container.get("env", []):
                value = entry.get("value") or ""
                for reference in value.split("$(")[1:]:
                    assert reference.split(")")[0] in defined, entry["name"]
                defined.add(entry["name"])


def test_autoscaled_deployments_leave_replicas_to_the_hpa(rendered_sets):
    objects, _ = rendered_sets["autoscaling-and-tls"]
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    assert set(autoscalers) == {
        "shop-ecommerce-user-service",
        "shop-ecommerce-product-service",
        "shop-ecommerce-order-service",
        "shop-ecommerce-integration-worker",
    }
    for name, hpa in autoscalers.items():
        deployment = by_name(objects, "Deployment", name)
        assert "replicas" not in deployment["spec"]
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
    web = autoscalers["shop-ecommerce-order-service"]["spec"]
    assert (web["minReplicas"], web["maxReplicas"]) == (3, 9)
    assert {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in web["metrics"]
    } == {"cpu": 65, "memory": 80}
    worker = autoscalers["shop-ecommerce-integration-worker"]["spec"]
    assert (worker["minReplicas"], worker["maxReplicas"]) == (2, 6)
    assert [m["resource"]["name"] for m in worker["metrics"]] == ["cpu"]
    assert (
        by_name(objects, "Deployment", "shop-ecommerce-integration-service")["spec"]["replicas"]
        == 1
    )


def test_without_autoscaling_replicas_come_from_values():
    objects, _ = render({"orderService": {"replicaCount": 4}, "worker": {"replicaCount": 3}})
    assert of_kind(objects, "HorizontalPodAutoscaler") == []
    assert by_name(objects, "Deployment", "shop-ecommerce-order-service")["spec"]["replicas"] == 4
    assert (
        by_name(objects, "Deployment", "shop-ecommerce-integration-worker")["spec"]["replicas"] == 3
    )


def test_each_service_and_the_worker_have_a_disruption_budget(default_objects):
    budgets = {p["metadata"]["name"]: p for p in of_kind(default_objects, "PodDisruptionBudget")}
    assert set(budgets) == {f"shop-ecommerce-{c}" for c in APP_COMPONENTS}
    pods = _pod_labels(default_objects)
    for name, budget in budgets.items():
        assert budget["spec"]["maxUnavailable"] == 1
        owners = [
            o for o, labels in pods if _matches(budget["spec"]["selector"]["matchLabels"], labels)
        ]
        assert owners == [name]


def test_service_accounts_mount_no_token(default_objects):
    accounts = of_kind(default_objects, "ServiceAccount")
    assert len(accounts) == 9
    assert all(a["automountServiceAccountToken"] is False for a in accounts)


def test_images_follow_the_values(default_objects):
    images = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in of_kind(default_objects, "Deployment")
    }
    assert images == {
        "shop-ecommerce-user-service": "ecommerce/user-service:1.0.0",
        "shop-ecommerce-product-service": "ecommerce/product-service:1.0.0",
        "shop-ecommerce-order-service": "ecommerce/order-service:1.0.0",
        "shop-ecommerce-integration-service": "ecommerce/integration-service:1.0.0",
        "shop-ecommerce-integration-worker": "ecommerce/integration-service:1.0.0",
        "shop-ecommerce-integration-beat": "ecommerce/integration-service:1.0.0",
    }
    objects, _ = render(
        {
            "image": {"registry": "registry.example.com", "tag": "2.3.4"},
            "userService": {"image": {"repository": "ecommerce/user-service", "tag": "2.3.5"}},
            "orderService": {
                "image": {"repository": "ecommerce/order-service", "digest": "sha256:" + "a" * 64}
            },
        }
    )
    images = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in of_kind(objects, "Deployment")
    }
    assert (
        images["shop-ecommerce-user-service"] == "registry.example.com/ecommerce/user-service:2.3.5"
    )
    assert (
        images["shop-ecommerce-product-service"]
        == "registry.example.com/ecommerce/product-service:2.3.4"
    )
    assert (
        images["shop-ecommerce-order-service"]
        == "registry.example.com/ecommerce/order-service@sha256:" + "a" * 64
    )


@pytest.mark.parametrize(
    ("values", "secure"),
    [
        ({}, "false"),
        ({"ingress": {"host": "shop.example.com", "tls": {"enabled": True}}}, "true"),
        ({"config": {"secureCookies": True}}, "true"),
        (
            {
                "config": {"secureCookies": False},
                "ingress": {"host": "shop.example.com", "tls": {"enabled": True}},
            },
            "false",
        ),
    ],
)
def test_cookies_are_secure_when_the_ingress_serves_https_unless_told(values, secure):
    objects, _ = render(values)
    data = by_name(objects, "ConfigMap", "shop-ecommerce-config")["data"]
    assert data["AUTH_COOKIE_SECURE"] == secure
    assert data["DJANGO_SECURE_COOKIES"] == secure
    assert data["DJANGO_DEBUG"] == "false"


@pytest.mark.parametrize(
    ("values", "count"),
    [
        ({}, "1"),
        ({"ingress": {"enabled": False}}, "0"),
        ({"config": {"trustedProxyCount": 2}}, "2"),
    ],
)
def test_trusted_proxies_follow_the_ingress_unless_told(values, count):
    objects, _ = render(values)
    data = by_name(objects, "ConfigMap", "shop-ecommerce-config")["data"]
    assert data["TRUSTED_PROXY_COUNT"] == count


@pytest.mark.parametrize(
    ("values", "gateway", "allowed"),
    [
        ({}, "payments.gateway.SimulatedGateway", "true"),
        (
            {
                "orderService": {
                    "payment": {"gateway": "shop_payments.StripeGateway", "allowSimulator": False}
                }
            },
            "shop_payments.StripeGateway",
            "false",
        ),
    ],
)
def test_order_service_pods_and_migrations_get_the_chosen_payment_gateway(values, gateway, allowed):
    objects, _ = render(values)
    owners = [
        owner
        for owner, _ in pod_templates(objects)
        if owner["metadata"]["name"].startswith("shop-ecommerce-order-service")
    ]
    assert {owner["kind"] for owner in owners} >= {"Deployment", "Job"}
    for owner in owners:
        for container in template_of(owner)["spec"]["containers"]:
            env = {item["name"]: item.get("value") for item in container.get("env", [])}
            assert env["PAYMENT_GATEWAY"] == gateway
            assert env["PAYMENT_SIMULATOR_ALLOWED"] == allowed
    other = by_name(objects, "Deployment", "shop-ecommerce-user-service")
    env_names = {item["name"] for item in template_of(other)["spec"]["containers"][0]["env"]}
    assert "PAYMENT_GATEWAY" not in env_names


def test_the_payment_gateway_value_must_be_a_dotted_path():
    with pytest.raises(helm_python.HelmValuesError, match="gateway"):
        render({"orderService": {"payment": {"gateway": "not a path"}}})
