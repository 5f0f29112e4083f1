"""The chart lints, renders for every value set, and every object is valid Kubernetes."""

from __future__ import annotations

import helm_python
import kubernetes_validate
import pytest
from chart_support import CHART, KUBERNETES_VERSION, VALUE_SETS, of_kind, render


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_chart_lints_without_warnings(value_set):
    report = helm_python.lint(
        str(CHART),
        VALUE_SETS[value_set],
        strict=True,
        namespace="shop-prod",
        kube_version=f"v{KUBERNETES_VERSION}",
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == []
    assert problems == []


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_rendered_object_is_valid_for_current_kubernetes(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    assert objects
    for obj in objects:
        # strict: unknown fields are errors too; a kind without a schema raises.
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_validation_runs_against_a_current_kubernetes_release():
    major, minor = (int(part) for part in KUBERNETES_VERSION.split(".")[:2])
    assert (major, minor) >= (1, 33)


def test_strict_validation_would_catch_a_misspelt_field(default_objects):
    deployment = dict(of_kind(default_objects, "Deployment")[0])
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_object_is_in_the_release_namespace(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    for obj in objects:
        assert obj["metadata"]["namespace"] == "shop-prod", obj["metadata"]["name"]


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_object_carries_the_standard_labels(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "ecommerce"
        assert labels["app.kubernetes.io/instance"] == "shop"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/component"]
        assert labels["helm.sh/chart"] == "ecommerce-1.0.0"


def test_one_template_per_object_kind():
    kinds_by_template: dict[str, set[str]] = {}
    for values in VALUE_SETS.values():
        with helm_python.Chart.load(CHART) as chart:
            rendered = chart.render(values, name="shop", namespace="shop-prod")
        for path, text in rendered.items():
            for line in text.splitlines():
                if line.startswith("kind: "):
                    kinds_by_template.setdefault(path, set()).add(line.split(": ", 1)[1])
    for path, kinds in kinds_by_template.items():
        assert len(kinds) == 1, f"{path} renders {sorted(kinds)}"


def test_notes_tell_how_to_reach_the_apis():
    _, notes = render({}, name="shop", namespace="shop-prod")
    assert "minikube ip" in notes
    assert "/users/register" in notes
    assert "/users/login" in notes
    assert "kubectl get secret shop-ecommerce -n shop-prod" in notes
    assert "port-forward -n shop-prod svc/shop-ecommerce-order-service 8003" in notes

    _, tls_notes = render(
        {"ingress": {"host": "shop.example.com", "tls": {"enabled": True}}}, name="shop"
    )
    assert "BASE=https://shop.example.com" in tls_notes

    _, no_ingress_notes = render({"ingress": {"enabled": False}}, name="shop")
    assert "port-forward -n shop-prod svc/shop-ecommerce-user-service 8001" in no_ingress_notes


OPTIONAL_SETTINGS = {
    "no-service-accounts": {"serviceAccount": {"create": False, "name": "shop-runner"}},
    "nothing-optional": {
        "ingress": {"enabled": False},
        "networkPolicy": {"enabled": False},
        "migrations": {"enabled": False},
        "waitForMigrations": False,
        **{key: {"pdb": {"enabled": False}} for key in ("userService", "worker")},
    },
    "scheduling-and-extras": {
        "fullnameOverride": "store",
        "commonLabels": {"team": "checkout"},
        "image": {"pullSecrets": ["regcred"]},
        "config": {"extra": {"FEATURE_FLAGS": "reviews"}, "allowedHosts": ["api.example.com"]},
        "orderService": {
            "extraEnv": [{"name": "ORDER_MAX_LINES", "value": "50"}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
            "pdb": {"enabled": True, "maxUnavailable": "50%"},
        },
        "worker": {"extraEnv": [{"name": "EVENT_MAX_RETRIES", "value": "5"}]},
        "postgresql": {"persistence": {"size": "10Gi", "storageClass": "standard"}},
    },
}


@pytest.mark.parametrize("settings", sorted(OPTIONAL_SETTINGS))
def test_optional_settings_render_valid_objects(settings):
    values = OPTIONAL_SETTINGS[settings]
    with helm_python.Chart.load(CHART) as chart:
        chart.validate_schema(values)
    objects, _ = render(values)
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    if settings == "no-service-accounts":
        assert of_kind(objects, "ServiceAccount") == []
        pods = [o["spec"]["template"]["spec"] for o in objects if "template" in o.get("spec", {})]
        assert {p["serviceAccountName"] for p in pods} == {"shop-runner"}
    if settings == "nothing-optional":
        for kind in ("Ingress", "NetworkPolicy", "Job"):
            assert of_kind(objects, kind) == []
    if settings == "scheduling-and-extras":
        assert all(o["metadata"]["name"].startswith("store") for o in objects)
        assert all(o["metadata"]["labels"]["team"] == "checkout" for o in objects)
        config = next(
            c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"] == "store-config"
        )
        assert config["data"]["DJANGO_ALLOWED_HOSTS"] == "api.example.com"
        assert config["data"]["FEATURE_FLAGS"] == "reviews"
