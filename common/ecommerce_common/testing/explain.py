"""Proof that a code path's PostgreSQL queries are served by indexes.

``sequential_scans(queries)`` runs ``EXPLAIN`` on every captured query that reads a table
(``SELECT``, ``UPDATE``, ``DELETE``) and returns those whose plan reads a table from end to end:
a ``Seq Scan``, or a walk of a whole index with only a filter (an index scan without an
``Index Cond``). Two walks are allowed: under a ``LIMIT``, which stops early (the oldest rows
first), and of a partial index, which holds only the rows in its predicate (the unpaid orders,
the unsent events: what is in flight now, not the history). ``EXPLAIN`` only plans: nothing runs
twice.

Run it with the tables at a real size (``ecommerce_common.testing.history`` seeds tens of
thousands of earlier orders, then ``ANALYZE``), so the planner weighs them as production would.
Sequential scans are also priced out (``enable_seqscan = off``): a table the test left small
would rightly be scanned, and with the scan disallowed one is planned only where no index can
serve the query.

    with CaptureQueriesContext(connection) as captured:
        client.get("/orders")
    assert sequential_scans(captured.captured_queries) == []
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

PLANNED = ("SELECT", "UPDATE", "DELETE", "WITH")
INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def sequential_scans(queries: Iterable[dict]) -> list[tuple[str, str]]:
    """``(sql, plan)`` of each query whose plan reads some table end to end."""
    found = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL")
        partial = {name for (name,) in cursor.fetchall()}
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(PLANNED):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            [(document,)] = cursor.fetchall()
            if _full_scans(document[0]["Plan"], partial=partial, limited=False):
                cursor.execute(f"EXPLAIN {sql}")
                found.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return found


def assert_page_uses_indexes(client, url: str) -> None:
    """``GET url`` with a test ``client``: it answers 200 and no query it made reads a table end
    to end (the admin's list pages, for one)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    scans = sequential_scans(captured.captured_queries)
    assert scans == [], report(scans)


def report(scans: list[tuple[str, str]]) -> str:
    """The queries and plans of ``sequential_scans``, for an assertion's message."""
    return "\n\n".join(f"{sql}\n{plan}" for sql, plan in scans)


def _full_scans(node: dict, *, partial: set[str], limited: bool) -> list[dict]:
    limited = limited or node["Node Type"] == "Limit"
    whole_index = (
        node["Node Type"] in INDEX_SCANS
        and "Index Cond" not in node
        and node["Index Name"] not in partial
        and not limited
    )
    own = [node] if node["Node Type"] == "Seq Scan" or whole_index else []
    return own + [
        scan
        for child in node.get("Plans", [])
        for scan in _full_scans(child, partial=partial, limited=limited)
    ]
