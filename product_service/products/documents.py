"""Raw documents and model instances: what the ORM would read and write, for pymongo queries.

The ORM compiles every read into an aggregation pipeline (and nested ``$and`` filters), which
SecantusDB, the dev/test/bench store, answers by scanning. The hot reads and writes therefore
send flat filters through pymongo (``products.queries``); these helpers keep their values and
results exactly as the ORM converts them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import Field, Model
from pymongo.collection import Collection


def collection(model: type[Model]) -> Collection:
    return connections[model.objects.db].get_collection(model._meta.db_table)


# Per connection (one per thread), as the ORM's compiler asks its own connection.
@cache
def _converters(connection: Any, field: Field) -> tuple[Callable[..., Any], ...]:
    column = field.cached_col
    return tuple(connection.ops.get_db_converters(column) + column.get_db_converters(connection))


def from_store(field: Field, value: Any) -> Any:
    """A raw value of ``field`` from the store, converted exactly as the ORM converts it."""
    connection = connections[field.model.objects.db]
    for convert in _converters(connection, field):
        value = convert(value, field.cached_col, connection)
    return value


def to_store(field: Field, value: Any) -> Any:
    """``value`` as the ORM sends it to the store for ``field`` (e.g. a Decimal as Decimal128)."""
    return field.get_db_prep_value(value, connections[field.model.objects.db], prepared=False)


@cache
def _loader(model: type[Model], connection: Any) -> tuple[list[str], list[tuple[str, Any, tuple]]]:
    """The model's attribute names, and per field its column and converters (computed once)."""
    fields = model._meta.concrete_fields
    return [field.attname for field in fields], [
        (field.column, field.cached_col, _converters(connection, field)) for field in fields
    ]


def model_from_document(model: type[Model], document: dict[str, Any]) -> Model:
    """The model instance for a raw document (as pymongo returns it), as the ORM would load it."""
    alias = model.objects.db
    connection = connections[alias]
    names, columns = _loader(model, connection)
    values = []
    for column, expression, converters in columns:
        value = document.get(column)
        for convert in converters:
            value = convert(value, expression, connection)
        values.append(value)
    return model.from_db(alias, names, values)


class Found:
    """What a query (``products.queries.Query``) finds, as model instances: counted and sliced
    in the store, which is all a ``Paginator`` asks of a ``QuerySet``."""

    ordered = True

    def __init__(self, query: Any) -> None:
        self.query = query

    def _collection(self) -> Collection:
        return collection(self.query.model)

    def count(self) -> int:
        if not self.query.filter:
            # From the collection's metadata: counting every document would read them all.
            return self._collection().estimated_document_count()
        return self._collection().count_documents(self.query.filter)

    def __getitem__(self, index: slice) -> list[Model]:
        start, stop = index.start or 0, index.stop
        if index.step is not None or start < 0 or (stop is not None and stop < start):
            raise ValueError("only forward slices are supported")
        cursor = self._collection().find(
            self.query.filter, self.query.projection, sort=self.query.sort, skip=start
        )
        if stop is not None:
            if stop == start:
                return []
            cursor = cursor.limit(stop - start)
        return [model_from_document(self.query.model, document) for document in cursor]

    def count_and_slice(self, start: int, stop: int) -> tuple[int, list[Model]]:
        """How many it finds, and the ``[start:stop]`` slice, from one pass over the matches
        (one ``$facet`` pipeline): SecantusDB decodes every match once per command, so a count
        and a page sent apart cost two passes."""
        page = [{"$sort": dict(self.query.sort or [("_id", 1)])}, {"$skip": start}]
        page.append({"$limit": stop - start})
        [result] = self._collection().aggregate(
            [
                {"$match": self.query.filter},
                {"$facet": {"total": [{"$count": "n"}], "page": page}},
            ]
        )
        total = result["total"][0]["n"] if result["total"] else 0
        return total, [model_from_document(self.query.model, row) for row in result["page"]]

    def first(self) -> Model | None:
        found = self[:1]
        return found[0] if found else None
