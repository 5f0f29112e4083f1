"""Both READMEs walk from `minikube start` to a paid order, with names the chart uses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import helm_python
import pytest
from chart_support import CHART, DEPLOY, SERVICES

READMES = [DEPLOY / "README.md", DEPLOY.parent / "README.md"]


def _commands(readme: Path) -> list[str]:
    """Shell commands of the README's bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", readme.read_text(), flags=re.DOTALL)
    commands: list[str] = []
    for block in blocks:
        commands.extend(
            line.strip()
            for line in block.replace("\\\n", " ").splitlines()
            if line.strip() and not line.strip().startswith("#")
        )
    return commands


def _first(commands: list[str], pattern: str) -> int:
    for index, command in enumerate(commands):
        if re.search(pattern, command):
            return index
    raise AssertionError(f"the README runs no command matching {pattern!r}")


@pytest.mark.parametrize("readme", READMES, ids=["deploy", "root"])
def test_the_walkthrough_runs_in_order_from_cluster_to_paid_order(readme):
    commands = _commands(readme)
    steps = [
        r"^minikube start",
        r"^minikube addons enable ingress$",
        r"^eval \$\(minikube docker-env\)$",
        r"^docker build -f deploy/Dockerfile",
        r"^helm install \S+ \./deploy/helm/ecommerce",
        r"\$BASE/users/register",
        r"\$BASE/users/login",
        r"-X POST \$BASE/product/",
        r"-X POST \$BASE/orders ",
        r"\$BASE/orders/\$ORDER/pay",
        r"\$BASE/orders/\$ORDER/status",
    ]
    positions = [_first(commands, step) for step in steps]
    assert positions == sorted(positions)


@pytest.mark.parametrize("readme", READMES, ids=["deploy", "root"])
def test_the_built_images_are_the_ones_the_chart_runs(readme):
    with helm_python.Chart.load(CHART) as chart:
        values = chart.values
        app_version = chart.metadata["appVersion"]
    expected = {
        service: f"{values[key]['image']['repository']}:{app_version}"
        for service, key in zip(
            SERVICES,
            ("userService", "productService", "orderService", "integrationService"),
            strict=True,
        )
    }
    built = {}
    for command in _commands(readme):
        if command.startswith("docker build"):
            argv = shlex.split(command)
            service = argv[argv.index("--build-arg") + 1].removeprefix("SERVICE=")
            built[service] = argv[argv.index("-t") + 1]
            assert argv[-1] == ".", "images are built from the repository root"
            assert argv[argv.index("-f") + 1] == "deploy/Dockerfile"
    assert built == expected


@pytest.mark.parametrize("readme", READMES, ids=["deploy", "root"])
def test_the_release_is_not_named_ecommerce_in_the_walkthrough(readme):
    install = next(c for c in _commands(readme) if c.startswith("helm install"))
    release = shlex.split(install)[2]
    assert release != "ecommerce"
    assert "--namespace" in install
