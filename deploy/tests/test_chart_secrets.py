"""Secrets: generated on install, kept on upgrade, never in plain text; migration hooks."""

from __future__ import annotations

import base64
import re

import helm_python
import pytest
from chart_support import (
    CHART,
    VALUE_SETS,
    WEB_COMPONENTS,
    all_containers,
    by_name,
    of_kind,
    pod_templates,
    render,
    secret_values,
)

SECRET_LOOKING_NAME = re.compile(r"(?i)(passw|secret|token|credential|private|_key$|^key$|apikey)")
URL_WITH_CREDENTIALS = re.compile(r"[a-z+]+://[^/\s:@]+:[^/\s@]+@")


def _secret_data(objects) -> dict[str, str]:
    (secret,) = of_kind(objects, "Secret")
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_no_configmap_holds_a_secret(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    secrets = secret_values(objects) | {
        "pw-users-given",
        "pw-orders-given",
        "pw-integration-given",
        "pw-mongo-given",
        "pw-rabbit-given",
    }
    config_maps = of_kind(objects, "ConfigMap")
    assert config_maps
    for config_map in config_maps:
        for key, value in config_map["data"].items():
            assert not SECRET_LOOKING_NAME.search(key), f"{key} in {config_map['metadata']['name']}"
            assert not URL_WITH_CREDENTIALS.search(value), key
            for secret in secrets:
                assert secret not in value, f"a secret value is in {key}"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_no_pod_spec_carries_a_secret_in_plain_text(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    secrets = secret_values(objects)
    for owner, pod_spec in pod_templates(objects):
        for container in all_containers(pod_spec):
            for entry in container.get("env", []):
                where = f"{owner['metadata']['name']}/{container['name']}: {entry['name']}"
                if "value" not in entry:
                    assert "secretKeyRef" in entry["valueFrom"] or "fieldRef" in entry["valueFrom"]
                    continue
                value = str(entry["value"])
                assert not SECRET_LOOKING_NAME.search(entry["name"]) or entry["name"] in {
                    "AUTH_COOKIE_SECURE",
                    "DJANGO_SECURE_COOKIES",
                }, where
                assert all(secret not in value for secret in secrets), where
                if "://" in value and "@" in value:
                    # Connection URLs get their password from a secretKeyRef'd variable.
                    assert re.search(r":\$\([A-Z_]+_PASSWORD\)@", value), where


def test_secrets_are_generated_on_install_and_differ_between_installs():
    first = _secret_data(render({})[0])
    second = _secret_data(render({})[0])
    assert set(first) == {
        "admin-password",
        "internal-api-tokens",
        "user-service-secret-key",
        "product-service-secret-key",
        "order-service-secret-key",
        "integration-service-secret-key",
        "postgresql-password",
        "users-database-password",
        "orders-database-password",
        "integration-database-password",
        "mongodb-root-password",
        "mongodb-password",
        "rabbitmq-password",
    }
    for key, value in first.items():
        assert len(value) >= 24, key
        assert re.fullmatch(r"[A-Za-z0-9]+", value), key
        assert value != second[key], f"{key} is not random"
    assert len(set(first.values())) == len(first), "two secrets share a value"


def test_each_service_signs_with_its_own_secret_key(default_objects):
    keys = set()
    for component in WEB_COMPONENTS:
        deployment = by_name(default_objects, "Deployment", f"shop-ecommerce-{component}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        (entry,) = [e for e in container["env"] if e["name"] == "DJANGO_SECRET_KEY"]
        keys.add(entry["valueFrom"]["secretKeyRef"]["key"])
    assert len(keys) == 4


def test_given_secret_values_are_used_as_given():
    data = _secret_data(
        render(
            {
                "admin": {"password": "the-admin-password"},
                "secrets": {"internalApiTokens": "new-token,previous-token"},
            }
        )[0]
    )
    assert data["admin-password"] == "the-admin-password"
    assert data["internal-api-tokens"] == "new-token,previous-token"


def test_secrets_are_kept_on_upgrade_by_looking_up_the_release_secret():
    # Offline rendering cannot reach a cluster (lookup answers nothing), so the keep-on-upgrade
    # branch is checked in the template itself: the live Secret is looked up by the same name
    # the chart gives it, and a key it holds wins over a newly generated value.
    template = (CHART / "templates" / "secret.yaml").read_text()
    assert '(lookup "v1" "Secret" .Release.Namespace $name)' in template
    assert '{{- $name := include "ecommerce.fullname" . }}' in template
    generated_after_kept = re.search(
        r"else if hasKey \$old \$key \}\}\s*\{\{- \$_ := set \$values \$key \(index \$old \$key\) \}\}"
        r"\s*\{\{- else \}\}\s*\{\{- \$_ := set \$values \$key \(randAlphaNum",
        template,
    )
    assert generated_after_kept, "a kept value must win over a generated one"
    (secret,) = of_kind(render({})[0], "Secret")
    assert secret["metadata"]["name"] == "shop-ecommerce"
    assert secret["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}


def test_the_chart_holds_no_fixed_password():
    values = helm_python.Chart.load(CHART).values
    given = [
        values["admin"]["password"],
        values["secrets"]["internalApiTokens"],
        values["externalMongodb"]["password"],
        values["externalRabbitmq"]["password"],
        *(db["password"] for db in values["externalPostgresql"]["databases"].values()),
    ]
    assert given == [""] * len(given)
    for template in [*(CHART / "templates").glob("*.yaml"), *(CHART / "templates").glob("*.tpl")]:
        text = template.read_text()
        assert not re.search(r"(?i)password:\s*['\"]?[A-Za-z0-9]{4,}", text), template.name


def test_external_stores_need_their_passwords():
    values = {"rabbitmq": {"enabled": False}, "externalRabbitmq": {"host": "mq.example.internal"}}
    with pytest.raises(
        helm_python.HelmRenderError, match=r"externalRabbitmq\.password is required"
    ):
        render(values)


def test_an_existing_secret_replaces_the_chart_secret(rendered_sets):
    objects, notes = rendered_sets["existing-secret"]
    assert of_kind(objects, "Secret") == []
    refs = {
        entry["valueFrom"]["secretKeyRef"]["name"]
        for _, pod_spec in pod_templates(objects)
        for container in all_containers(pod_spec)
        for entry in container.get("env", [])
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    assert refs == {"shop-credentials"}
    assert "kubectl get secret shop-credentials" in notes


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_migration_jobs_are_helm_hooks_that_migrate_and_create_the_admin(value_set, rendered_sets):
    objects, _ = rendered_sets[value_set]
    jobs = {j["metadata"]["name"]: j for j in of_kind(objects, "Job")}
    assert set(jobs) == {f"shop-ecommerce-{c}-migrations" for c in WEB_COMPONENTS}
    for component, module in WEB_COMPONENTS.items():
        job = jobs[f"shop-ecommerce-{component}-migrations"]
        annotations = job["metadata"]["annotations"]
        assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "pre-upgrade"}
        assert int(annotations["helm.sh/hook-weight"]) == 0
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        spec = job["spec"]
        assert spec["backoffLimit"] >= 1
        assert spec["activeDeadlineSeconds"] >= 60
        pod = spec["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (container,) = pod["containers"]
        assert container["workingDir"] == f"/app/{module}"
        script = container["command"][2]
        assert "python manage.py migrate --noinput" in script
        assert script.rstrip().endswith("exec python manage.py ensure_admin")
        env = {e["name"]: e for e in container["env"]}
        assert env["ADMIN_EMAIL"]["value"] == "admin@example.com"
        assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "admin-password"
        # A pre-upgrade Job runs before the new ConfigMap exists: its settings are inline.
        assert "envFrom" not in container
        assert env["DJANGO_DEBUG"]["value"] == "false"
        assert (
            env["DJANGO_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"]
            == f"{component}-secret-key"
        )


def test_migrations_can_be_switched_off_and_weighted():
    assert of_kind(render({"migrations": {"enabled": False}})[0], "Job") == []
    jobs = of_kind(render({"migrations": {"hookWeight": -5}})[0], "Job")
    assert {j["metadata"]["annotations"]["helm.sh/hook-weight"] for j in jobs} == {"-5"}
