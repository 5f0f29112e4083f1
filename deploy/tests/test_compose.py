"""deploy/docker-compose.yml: the whole system on a laptop, as locked down as the chart."""

from __future__ import annotations

import re
import shlex

import helm_python
import pytest
import yaml
from chart_support import CHART, DEPLOY, REPO, conventions_commands, without_gunicorn_config

COMPOSE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
WEB = {
    "user-service": "user_service",
    "product-service": "product_service",
    "order-service": "order_service",
    "integration-service": "integration_service",
}
STORE_OF = {
    "user-service": "postgresql",
    "product-service": "mongodb",
    "order-service": "postgresql",
    "integration-service": "postgresql",
}
STORES = ("postgresql", "mongodb", "rabbitmq", "redis")
SECRET_VARIABLE = re.compile(r"(PASSWORD|SECRET|SECRET_KEY|TOKENS?)$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _migrate(component: str) -> str:
    return component.replace("-service", "-migrate")


def test_compose_runs_every_part_of_the_system(services):
    assert set(services) == {
        *WEB,
        "worker",
        "beat",
        "postgresql",
        "mongodb",
        "rabbitmq",
        "preflight",
        "redis",
        *(_migrate(c) for c in WEB),
    }


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if name.endswith("-migrate") or name == "preflight":
            assert service["restart"] == "no"
            continue
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check["retries"] >= 2


def test_services_start_after_their_store_is_healthy_and_migrated(services):
    for component, store in STORE_OF.items():
        depends = services[component]["depends_on"]
        assert depends[store] == {"condition": "service_healthy"}
        assert depends[_migrate(component)] == {"condition": "service_completed_successfully"}
        assert services[_migrate(component)]["depends_on"][store] == {
            "condition": "service_healthy"
        }
    for broker_user in ("order-service", "integration-service", "worker", "beat"):
        assert services[broker_user]["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
    for part in ("worker", "beat"):
        assert services[part]["depends_on"]["integration-migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_commands_are_those_of_the_conventions(services):
    table = conventions_commands()
    for component, module in WEB.items():
        part = (
            module
            if module != "integration_service"
            else next(p for p in table if p.startswith("integration_service"))
        )
        assert without_gunicorn_config(services[component]["command"]) == shlex.split(table[part])
    worker = shlex.split(table["integration worker"])
    assert services["worker"]["command"][: len(worker)] == worker
    beat = shlex.split(table["scheduler"])
    assert services["beat"]["command"][: len(beat)] == beat
    for component in WEB:
        script = services[_migrate(component)]["command"][2]
        assert "python manage.py migrate --noinput" in script
        assert script.rstrip().endswith("exec python manage.py ensure_admin")


def test_images_are_built_from_the_repository_with_the_service_argument(services):
    runs = {**{c: c for c in WEB}, **{_migrate(c): c for c in WEB}}
    runs.update(worker="integration-service", beat="integration-service", preflight="user-service")
    assert set(runs) == {n for n in services if n not in STORES}
    for name, component in runs.items():
        assert services[name]["image"] == f"ecommerce/{component}:${{IMAGE_TAG:-1.0.0}}"
        # Built here, never pulled from a registry.
        assert services[name]["build"] == {
            "context": "..",
            "dockerfile": "deploy/Dockerfile",
            "args": {"SERVICE": WEB[component]},
        }
    assert (REPO / "deploy" / "Dockerfile").is_file()


def test_application_containers_are_locked_down(services):
    for name, service in services.items():
        if name in STORES:
            assert service["user"] == "999:999"
        else:
            assert service["user"] == "10001:10001", name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert any(mount.startswith("/tmp") for mount in service["tmpfs"]), name


def test_no_secret_is_written_in_the_compose_file(compose):
    text = COMPOSE.read_text()
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if SECRET_VARIABLE.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{name}: {key}"
            if "://" in value and "@" in value:
                assert re.search(r":\$\{[A-Z_]+_PASSWORD:\?[^}]+\}@", value), f"{name}: {key}"
    assert not re.search(r"\$\{[A-Z_]*(PASSWORD|SECRET_KEY|TOKENS):-", text), (
        "a secret with a default"
    )


def test_every_variable_the_compose_file_needs_is_in_env_example():
    needed = set(re.findall(r"\$\{([A-Z_]+)(?::[?-][^}]*)?\}", COMPOSE.read_text()))
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert needed <= set(example), sorted(needed - set(example))
    for key, value in example.items():
        if SECRET_VARIABLE.search(key):
            assert value == "change-me", f"{key} must not carry a real value"


def _preflight(services, environment: dict[str, str]):
    import subprocess
    import sys

    command = services["preflight"]["command"]
    assert command[:2] == ["python", "-c"]
    return subprocess.run(
        [sys.executable, "-c", command[2]],
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def _example_env() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_nothing_starts_before_the_preflight_check_passes(services):
    for name, service in services.items():
        if name != "preflight":
            assert service["depends_on"]["preflight"] == {
                "condition": "service_completed_successfully"
            }, name
    secrets = {key for key in _example_env() if SECRET_VARIABLE.search(key)}
    assert secrets <= set(services["preflight"]["environment"])


def test_the_preflight_check_refuses_the_example_change_me_secrets(services):
    example = _example_env()
    refused = _preflight(services, example)
    assert refused.returncode != 0
    assert "ADMIN_PASSWORD" in refused.stderr
    assert "INTERNAL_API_TOKENS" in refused.stderr

    one_left = {key: f"real-{n}" for n, key in enumerate(example)}
    one_left["RABBITMQ_PASSWORD"] = "change-me"
    assert "RABBITMQ_PASSWORD" in _preflight(services, one_left).stderr

    replaced = {key: f"real-{n}" for n, key in enumerate(example)}
    assert _preflight(services, replaced).returncode == 0


def test_the_real_env_file_is_never_committed():
    ignore = (DEPLOY / ".gitignore").read_text().split()
    assert ".env" in ignore


def test_files_mounted_into_the_stores_exist(services):
    for store in ("postgresql", "mongodb"):
        for volume in services[store]["volumes"]:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), source


def test_stores_run_the_same_pinned_images_as_the_chart(services):
    with helm_python.Chart.load(CHART) as chart:
        values = chart.values
    for store in STORES:
        image = values[store]["image"]
        assert services[store]["image"] == f"{image['repository']}:{image['tag']}"
        assert re.search(r"\d+\.\d+\.?\d*", image["tag"]), f"{store} is not pinned to a release"


def test_the_web_services_share_the_redis_cache_and_start_once_it_is_healthy(services):
    for component in ("user-service", "product-service", "order-service"):
        url = services[component]["environment"]["REDIS_URL"]
        assert url == "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in deploy/.env}@redis:6379/0"
        assert services[component]["depends_on"]["redis"] == {"condition": "service_healthy"}
    redis = services["redis"]
    assert redis["command"][redis["command"].index("--save") + 1] == ""
    assert "--requirepass" in redis["command"]
    assert not redis.get("volumes"), "a cache keeps nothing on a volume"
