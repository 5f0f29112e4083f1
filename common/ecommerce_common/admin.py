"""Django admin pieces for tables that grow with every order (orders, events, payments).

The admin's list pages count their rows for the paginator: on an unfiltered list that is a
``COUNT(*)`` of the whole table, which reads every row (millions, for orders or events), and
its filters on a plain column list that column's distinct values, another read of every row.
``LargeTableAdmin`` pages a large table by PostgreSQL's own estimate of its size instead,
counts a filtered list (or a small table) only up to ``COUNT_AT_MOST`` rows, does not count the
whole table again beside a filtered list (``show_full_result_count``), and its filters list
fixed choices (``EventTypeFilter``). Such an admin has no ``date_hierarchy`` either: its
drill-down reads the dates of every row of the year or month shown; a ``DateFieldListFilter``
(today, past 7 days, this month, this year) narrows by date without reading any.
The services' ``tests/test_indexes.py`` pin the pages' queries.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from ecommerce_common.contracts import ORDER_EVENT_TYPES

# Below this many rows (by the estimate) a table is counted: the count is cheap and the estimate,
# kept by ANALYZE and autovacuum, may lag behind a small table's changes. A count stops here,
# so a filter matching more rows shows this many (the first hundred pages).
COUNT_AT_MOST = 10_000


def estimated_rows(*, table: str, using: str = "default") -> int | None:
    """PostgreSQL's estimate of the rows in ``table`` (``pg_class.reltuples``); None elsewhere,
    or when the table was never analysed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered list of a large table by the table's estimated size, and any other
    list up to ``COUNT_AT_MOST`` rows (a ``COUNT`` over a ``LIMIT``, which stops there)."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = estimated_rows(table=queryset.model._meta.db_table, using=queryset.db)
            if estimate is not None and estimate >= COUNT_AT_MOST:
                return estimate
        return queryset[:COUNT_AT_MOST].count()


class EventTypeFilter(admin.SimpleListFilter):
    """Filter by order event type, from the contract's list rather than the table's values."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [(event_type, event_type) for event_type in ORDER_EVENT_TYPES]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class LargeTableAdmin(admin.ModelAdmin):
    """A ModelAdmin whose list pages never count the whole table."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
