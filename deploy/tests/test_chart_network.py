"""The Ingress routes only the public prefixes; NetworkPolicies admit only the callers."""

from __future__ import annotations

import helm_python
import pytest
from chart_support import (
    APP_COMPONENTS,
    METRICS_PORT,
    VALUE_SETS,
    by_name,
    of_kind,
    pod_templates,
    render,
    template_of,
)

PUBLIC = {
    "/users": "shop-ecommerce-user-service",
    "/product": "shop-ecommerce-product-service",
    "/orders": "shop-ecommerce-order-service",
}


def _routes(ingress) -> dict[str, str]:
    return {
        path["path"]: path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_no_ingress_routes_internal(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    for ingress in of_kind(objects, "Ingress"):
        for path, backend in _routes(ingress).items():
            assert not path.startswith("/internal")
            if backend != "shop-ecommerce-flower":  # Flower's own host serves only Flower
                assert path != "/", "a catch-all path would expose /internal"


def test_ingress_routes_the_public_prefixes_to_their_services(default_objects):
    ingress = by_name(default_objects, "Ingress", "shop-ecommerce")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert _routes(ingress) == PUBLIC
    services = {s["metadata"]["name"] for s in of_kind(default_objects, "Service")}
    for rule in ingress["spec"]["rules"]:
        assert "host" not in rule
        for path in rule["http"]["paths"]:
            assert path["pathType"] == "Prefix"
            assert path["backend"]["service"]["name"] in services
            assert path["backend"]["service"]["port"] == {"name": "http"}
    assert "tls" not in ingress["spec"]


def test_api_docs_are_served_on_a_host_per_service_and_only_under_api(rendered_sets):
    objects, _ = rendered_sets["autoscaling-and-tls"]
    docs = by_name(objects, "Ingress", "shop-ecommerce-docs")
    routes = {
        rule["host"]: [(p["path"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]]
        for rule in docs["spec"]["rules"]
    }
    assert routes == {
        "docs-users.shop.example.com": [("/api/", "shop-ecommerce-user-service")],
        "docs-products.shop.example.com": [("/api/", "shop-ecommerce-product-service")],
        "docs-orders.shop.example.com": [("/api/", "shop-ecommerce-order-service")],
    }
    assert docs["spec"]["tls"][0]["hosts"] == list(routes)
    allowed = by_name(objects, "ConfigMap", "shop-ecommerce-config")["data"]["DJANGO_ALLOWED_HOSTS"]
    assert set(routes) <= set(allowed.split(","))


def test_the_docs_ingress_is_off_by_default_and_needs_a_host(default_objects):
    assert [i["metadata"]["name"] for i in of_kind(default_objects, "Ingress")] == [
        "shop-ecommerce"
    ]
    with pytest.raises(helm_python.HelmRenderError, match=r"ingress\.docs\.enabled needs"):
        render({"ingress": {"docs": {"enabled": True}}})


def test_ingress_host_class_and_tls_come_from_values(rendered_sets):
    objects, _ = rendered_sets["autoscaling-and-tls"]
    ingress = by_name(objects, "Ingress", "shop-ecommerce")
    assert ingress["spec"]["tls"] == [
        {"hosts": ["shop.example.com"], "secretName": "shop-example-com-tls"}
    ]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "shop.example.com"
    assert _routes(ingress) == PUBLIC
    other, _ = render({"ingress": {"className": "traefik", "annotations": {"a.example/b": "c"}}})
    ingress = by_name(other, "Ingress", "shop-ecommerce")
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["metadata"]["annotations"] == {"a.example/b": "c"}


def test_tls_without_a_host_is_refused():
    with pytest.raises(
        helm_python.HelmRenderError, match=r"ingress\.tls\.enabled needs ingress\.host"
    ):
        render({"ingress": {"tls": {"enabled": True}}})


def test_ingress_can_be_disabled(rendered_sets):
    objects, _ = rendered_sets["existing-secret"]
    assert of_kind(objects, "Ingress") == []


def _admitted(policy) -> tuple[set[str], bool]:
    """Components admitted by a policy, and whether the ingress controller is."""
    components: set[str] = set()
    controller = False
    for rule in policy["spec"].get("ingress", []):
        if [port["port"] for port in rule["ports"]] == [METRICS_PORT]:
            continue  # the scrapers' rule (test_chart_observability.py)
        for peer in rule["from"]:
            if "namespaceSelector" in peer:
                controller = True
                continue
            for expression in peer["podSelector"].get("matchExpressions", []):
                assert expression["key"] == "app.kubernetes.io/component"
                assert expression["operator"] == "In"
                components.update(expression["values"])
            assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "shop"
    return components, controller


def test_each_internal_route_is_reachable_only_from_its_callers(default_objects):
    policies = {
        p["metadata"]["name"].removeprefix("shop-ecommerce-"): p
        for p in of_kind(default_objects, "NetworkPolicy")
    }
    integration = {"integration-service", "integration-worker", "integration-beat"}
    expected = {
        "user-service": ({"product-service", "order-service"}, True),
        "product-service": ({"order-service"} | integration, True),
        "order-service": (integration, True),
        "integration-service": (set(), False),
        "integration-worker": (set(), False),
        "postgresql": (
            {"user-service", "user-service-migrations", "user-service-prune"}
            | {"order-service", "order-service-migrations"}
            | integration
            | {"integration-service-migrations"},
            False,
        ),
        "mongodb": ({"product-service", "product-service-migrations"}, False),
        "rabbitmq": ({"order-service"} | integration, False),
    }
    assert {name: _admitted(policy) for name, policy in policies.items()} == expected
    pod_components = {
        template_of(owner)["metadata"]["labels"]["app.kubernetes.io/component"]
        for owner, _ in pod_templates(default_objects)
    }
    for name, policy in policies.items():
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        selected = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        assert selected == name
        assert selected in pod_components
        admitted, _ = expected[name]
        assert admitted <= pod_components, "a policy names a component that runs no pod"
    for nobody_calls in ("integration-service", "integration-worker"):
        rules = policies[nobody_calls]["spec"]["ingress"]
        assert [port["port"] for rule in rules for port in rule["ports"]] == [METRICS_PORT]


def test_policies_follow_the_ports_and_the_controller_selector():
    objects, _ = render(
        {
            "userService": {"service": {"port": 9001}},
            "networkPolicy": {
                "ingressController": {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "traefik"}
                    },
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
                }
            },
        }
    )
    policy = by_name(objects, "NetworkPolicy", "shop-ecommerce-user-service")
    rules = policy["spec"]["ingress"]
    assert {port["port"] for rule in rules for port in rule["ports"]} == {9001, METRICS_PORT}
    (controller,) = [
        peer
        for rule in rules
        if rule["ports"][0]["port"] != METRICS_PORT
        for peer in rule["from"]
        if "namespaceSelector" in peer
    ]
    assert controller["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "traefik"
    }


def test_external_stores_get_no_in_cluster_policy(rendered_sets):
    objects, _ = rendered_sets["external-stores"]
    names = {p["metadata"]["name"] for p in of_kind(objects, "NetworkPolicy")}
    assert names == {f"shop-ecommerce-{c}" for c in APP_COMPONENTS}
