"""PostgreSQL plans of the queries a piece of code really ran, for index tests.

A test runs a hot path under ``django.test.utils.CaptureQueriesContext`` against tables
seeded large enough that the planner would scan them without an index, then asks
``sequential_scans`` which of the captured statements PostgreSQL plans with a ``Seq Scan``
(``EXPLAIN`` only: nothing is executed again).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# Statements with a plan; transaction control, savepoints and SET have none.
PLANNED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan tree, the root first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def sequential_scans(
    connection: BaseDatabaseWrapper, statements: Iterable[str]
) -> list[tuple[str, list[str]]]:
    """The statements planned with a ``Seq Scan``, each with the tables it scans."""
    scanning = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(PLANNED):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            [[explained]] = cursor.fetchone()
        tables = [
            node.get("Relation Name", "?")
            for node in plan_nodes(explained["Plan"])
            if node["Node Type"] == "Seq Scan"
        ]
        if tables:
            scanning.append((sql, tables))
    return scanning
