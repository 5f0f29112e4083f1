"""The shared cache in the chart: no Redis by default, an in-chart one, or an external URL."""

from __future__ import annotations

import base64

import pytest
from chart_support import WEB_COMPONENTS, by_name, of_kind, render

CACHE_USERS = ("user-service", "product-service", "order-service")


def _env(objects, component: str) -> dict[str, dict]:
    deployment = by_name(objects, "Deployment", f"shop-ecommerce-{component}")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


def _secret(objects) -> dict[str, str]:
    secret = by_name(objects, "Secret", "shop-ecommerce")
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_by_default_no_redis_runs_and_no_service_gets_a_redis_url(default_objects):
    names = {o["metadata"]["name"] for o in default_objects}
    assert not any("redis" in name for name in names)
    for component in WEB_COMPONENTS:
        assert "REDIS_URL" not in _env(default_objects, component)
    assert not any("redis" in key for key in _secret(default_objects))


def test_in_chart_redis_is_a_locked_down_cache_with_probes_and_a_generated_password(
    rendered_sets,
):
    objects, _ = rendered_sets["in-chart-redis"]
    deployment = by_name(objects, "Deployment", "shop-ecommerce-redis")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    args = container["args"]
    assert args[args.index("--save") + 1] == ""
    assert args[args.index("--appendonly") + 1] == "no"
    assert args[args.index("--maxmemory") + 1] == "200mb"
    assert args[args.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert args[args.index("--requirepass") + 1] == "$(REDISCLI_AUTH)"
    (auth,) = container["env"]
    assert auth["valueFrom"]["secretKeyRef"] == {"name": "shop-ecommerce", "key": "redis-password"}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe], probe
    assert "redis-cli" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert {v["name"]: v for v in pod["volumes"]}["data"] == {"name": "data", "emptyDir": {}}
    service = by_name(objects, "Service", "shop-ecommerce-redis")
    assert service["spec"]["ports"][0]["port"] == 6379
    assert len(_secret(objects)["redis-password"]) == 32


def test_in_chart_redis_url_reaches_the_cache_users_with_the_password_by_reference(
    rendered_sets,
):
    objects, _ = rendered_sets["in-chart-redis"]
    password = _secret(objects)["redis-password"]
    for component in CACHE_USERS:
        env = _env(objects, component)
        assert env["REDIS_URL"]["value"] == (
            "redis://:$(REDIS_PASSWORD)@shop-ecommerce-redis:6379/0"
        )
        assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "redis-password"
        assert password not in str(env)
    assert "REDIS_URL" not in _env(objects, "integration-service")
    config = by_name(objects, "ConfigMap", "shop-ecommerce-config")
    assert config["data"]["CACHE_KEY_PREFIX"] == "shop-eu"


def test_cache_keys_start_with_the_release_name_by_default(default_objects):
    config = by_name(default_objects, "ConfigMap", "shop-ecommerce-config")
    assert config["data"]["CACHE_KEY_PREFIX"] == "shop-ecommerce"


def test_only_the_web_services_that_cache_may_reach_the_in_chart_redis(rendered_sets):
    objects, _ = rendered_sets["in-chart-redis"]
    policy = by_name(objects, "NetworkPolicy", "shop-ecommerce-redis")
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    (expression,) = peer["podSelector"]["matchExpressions"]
    assert sorted(expression["values"]) == sorted(CACHE_USERS)
    assert rule["ports"] == [{"port": 6379, "protocol": "TCP"}]


def test_external_redis_url_is_kept_in_the_secret_and_referenced(rendered_sets):
    objects, _ = rendered_sets["external-redis"]
    assert not [
        o for o in of_kind(objects, "Deployment") if o["metadata"]["name"].endswith("-redis")
    ]
    assert _secret(objects)["redis-url"] == "rediss://:pw-redis-given@cache.example.internal:6380/3"
    for component in CACHE_USERS:
        env = _env(objects, component)
        assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "shop-ecommerce",
            "key": "redis-url",
        }
        assert "REDIS_PASSWORD" not in env


def test_external_redis_from_an_existing_secret_needs_no_url():
    objects, _ = render(
        {
            "secrets": {"existingSecret": "shop-credentials"},
            "externalRedis": {"enabled": True},
        }
    )
    env = _env(objects, "product-service")
    assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "shop-credentials",
        "key": "redis-url",
    }


def test_external_redis_without_a_url_or_secret_is_refused():
    with pytest.raises(Exception, match=r"externalRedis\.url is required"):
        render({"externalRedis": {"enabled": True}})


@pytest.mark.parametrize(
    "values",
    [
        {"redis": {"enabled": True}, "externalRedis": {"enabled": True, "url": "redis://x:6379"}},
        {"externalRedis": {"enabled": True, "url": "http://cache:6379"}},
        {"redis": {"maxMemory": "lots"}},
        {"redis": {"enabled": True, "persistence": {"size": "1Gi"}}},
    ],
)
def test_schema_refuses_bad_redis_values(values):
    with pytest.raises(Exception, match=r"(?i)schema|values don.t meet"):
        render(values)
