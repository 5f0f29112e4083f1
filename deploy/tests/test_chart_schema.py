"""values.schema.json: every default is valid, and a wrong value fails with a clear message."""

from __future__ import annotations

import json

import helm_python
import pytest
import yaml
from chart_support import CHART, VALUE_SETS, render


def test_every_value_set_passes_the_schema():
    with helm_python.Chart.load(CHART) as chart:
        for values in VALUE_SETS.values():
            chart.validate_schema(values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"userService": {"replicaCount": "two"}},
            "/userService/replicaCount': got string, want integer",
        ),
        ({"ingress": {"tls": ["shop-tls"]}}, "/ingress/tls': got array, want object"),
        (
            {"ingress": {"tls": {"hosts": ["shop.example.com"]}}},
            "additional properties 'hosts' not allowed",
        ),
        ({"orderService": {"image": {"repository": ""}}}, "/orderService/image/repository"),
        ({"productService": {"image": {"repository": None}}}, "missing property 'repository'"),
        ({"userService": {"ingressPaths": ["/internal/verify"]}}, "/userService/ingressPaths/0"),
        (
            {"integrationService": {"ingressPaths": ["/integration"]}},
            "/integrationService/ingressPaths",
        ),
        ({"config": {"logFormat": "xml"}}, "/config/logFormat"),
        ({"config": {"extra": {"STRIPE_SECRET": "sk"}}}, "invalid propertyName 'STRIPE_SECRET'"),
        ({"worker": {"autoscaling": {"enabled": "yes"}}}, "/worker/autoscaling/enabled"),
        ({"postgresql": {"persistence": {"size": "lots"}}}, "/postgresql/persistence/size"),
        ({"replicas": 2}, "additional properties 'replicas' not allowed"),
    ],
)
def test_a_wrong_value_is_rejected_with_its_path(values, message):
    with (
        helm_python.Chart.load(CHART) as chart,
        pytest.raises(helm_python.HelmValuesError) as error,
    ):
        chart.validate_schema(values)
    assert message in str(error.value)
    # An install renders through the same check.
    with pytest.raises(helm_python.HelmValuesError, match="values don't meet the specifications"):
        render(values)


def test_lint_reports_a_schema_violation_as_an_error():
    report = helm_python.lint(str(CHART), {"userService": {"replicaCount": "two"}})
    assert any("replicaCount" in error for error in report["errors"])


def _documented(lines: list[str], index: int) -> bool:
    """A key is documented by a comment line right above it (or above its parent block)."""
    previous = lines[index - 1].strip() if index else ""
    return previous.startswith("#")


def test_every_top_level_and_service_key_in_values_yaml_is_described():
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(values) == set(schema["properties"]), "values.yaml and the schema disagree"
    lines = text.splitlines()
    top_level = [
        i
        for i, line in enumerate(lines)
        if line and not line[0].isspace() and not line.startswith("#")
    ]
    undocumented = [lines[i] for i in top_level if not _documented(lines, i)]
    assert undocumented == []
    # Each leaf setting of the first service block is commented; the others mirror it.
    block = lines[lines.index("userService:") : lines.index("productService:")]
    assert sum(1 for line in block if line.strip().startswith("# --")) >= 10


def test_the_schema_is_strict_everywhere():
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, path
            for key, child in node.items():
                walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}/{index}")

    walk(schema, "")
