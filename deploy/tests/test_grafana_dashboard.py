"""The Grafana dashboard reads only metrics the code exports."""

from __future__ import annotations

import json
import re

from chart_support import DEPLOY, REPO

DASHBOARD = DEPLOY / "grafana" / "ecommerce-dashboard.json"
SOURCES = ["common/ecommerce_common", "order_service/orders", "product_service/products"]
SOURCES.append("integration_service/events")


def _exported() -> set[str]:
    """Metric names declared in the code (Counter, Histogram, GaugeMetricFamily)."""
    names: set[str] = set()
    for folder in SOURCES:
        for path in (REPO / folder).glob("*.py"):
            text = path.read_text()
            names.update(re.findall(r'(?:Counter|Histogram|GaugeMetricFamily)\(\s*"(\w+)"', text))
    return names


def _series(expr: str) -> set[str]:
    """The series names in a PromQL expression: identifiers that are not functions,
    aggregation clauses, label matchers or ranges."""
    expr = re.sub(r"\bby \([^)]*\)|\{[^}]*\}|\[[^\]]*\]", "", expr)
    return {name for name in re.findall(r"\b([a-z_]+)\b(?!\s*\()", expr) if "_" in name}


def test_every_dashboard_query_uses_an_exported_metric_and_every_metric_is_shown():
    dashboard = json.loads(DASHBOARD.read_text())
    exported = _exported()
    series = {
        name.removesuffix("_bucket")
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in _series(target["expr"])
    }
    assert series <= exported, series - exported
    assert exported <= series, f"not on the dashboard: {exported - series}"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
