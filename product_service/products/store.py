"""The raw store behind one door: a model's pymongo collection, its values converted to and
from what the store holds, and documents turned into model instances, exactly as the ORM does.

The ORM compiles every read into an aggregation pipeline (and nested ``$and`` filters), which
SecantusDB, the dev/test/bench store, answers by scanning. The hot reads and writes therefore
send flat filters through pymongo (``products.queries``); every module that does so reaches the
store through here, so the values and results stay exactly as the ORM converts them.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

_converters: dict[tuple[str, Field], list[Any]] = {}


def collection(model: type[Model]) -> Collection:
    """The pymongo collection the model's rows live in, on the model's database."""
    return connections[model.objects.db].get_collection(model._meta.db_table)


def from_store(field: Field, value: Any, *, connection: BaseDatabaseWrapper | None = None) -> Any:
    """A raw value of ``field`` from the store, converted exactly as the ORM converts it
    (through ``connection``, the model's own unless given: converting many values, a caller
    spares looking it up for each)."""
    if connection is None:
        connection = connections[field.model.objects.db]
    for convert in store_converters(field, connection):
        value = convert(value, field.cached_col, connection)
    return value


def store_converters(field: Field, connection: BaseDatabaseWrapper) -> list[Any]:
    """The converters ``from_store`` applies to a raw value of ``field``, in order (called as
    ``convert(value, field.cached_col, connection)``); often none."""
    converters = _converters.get((connection.alias, field))
    if converters is None:
        column = field.cached_col
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        _converters[(connection.alias, field)] = converters
    return converters


def to_store(field: Field, value: Any) -> Any:
    """``value`` as the ORM sends it to the store for ``field`` (e.g. a Decimal as Decimal128)."""
    return field.get_db_prep_value(value, connections[field.model.objects.db], prepared=False)


def model_from_document(model: type[Model], document: dict[str, Any]) -> Model:
    """The model instance for a raw document (as pymongo returns it), as the ORM would load it."""
    fields = model._meta.concrete_fields
    return model.from_db(
        model.objects.db,
        [field.attname for field in fields],
        [from_store(field, document.get(field.column)) for field in fields],
    )


def insert(instance: Model) -> bool:
    """Store a new model instance as ``save(force_insert=True)`` would, with one ``insert_one``
    (the ORM compiles its insert for every call: a quarter of a reserve request's CPU in the
    profile, bench/FINDINGS.md); False when a unique index refuses it."""
    model = type(instance)
    document = {}
    for field in model._meta.concrete_fields:
        value = field.pre_save(instance, add=True)
        if field.primary_key and value is None:
            continue  # the store assigns the id
        document[field.column] = to_store(field, value)
    try:
        inserted = collection(model).insert_one(document)
    except DuplicateKeyError:
        return False
    instance.pk = inserted.inserted_id
    instance._state.adding = False
    instance._state.db = model.objects.db
    return True


def find_one(model: type[Model], filter: dict[str, Any]) -> Model | None:
    """The model instance of the first document matching ``filter``; None when none does."""
    document = collection(model).find_one(filter)
    return None if document is None else model_from_document(model, document)


class Found:
    """What a query (``products.queries.Query``) finds, as model instances (or, with
    ``documents=True``, the raw documents, for reads rendered straight from the store): counted
    and sliced in the store, which is all a ``Paginator`` asks of a ``QuerySet``.

    A query that scans (``Query.scans``: the text search) reads a slice and the total in one
    pass, an aggregation whose ``$facet`` sorts and slices the matches and counts them: one
    scan instead of one for the slice and another for the count. Every other query is a
    ``find`` (and a ``count_documents``), which MongoDB answers from an index, sort and limit
    included, where a ``$facet`` would sort every match in memory.
    """

    ordered = True

    def __init__(self, query: Any, *, documents: bool = False) -> None:
        self.query = query
        self.documents = documents
        self._total: int | None = None

    def _collection(self) -> Collection:
        return collection(self.query.model)

    def count(self) -> int:
        if self._total is not None:
            return self._total
        if not self.query.filter:
            # From the collection's metadata: counting every document would read them all.
            return self._collection().estimated_document_count()
        return self._collection().count_documents(self.query.filter)

    def __getitem__(self, index: slice) -> list[Model] | list[dict[str, Any]]:
        start, stop = index.start or 0, index.stop
        if index.step is not None or start < 0 or (stop is not None and stop < start):
            raise ValueError("only forward slices are supported")
        if stop == start:
            return []
        if self.query.scans is not None and stop is not None:
            documents = self._slice_and_total(start, stop - start)
        else:
            cursor = self._collection().find(
                self.query.filter, self.query.projection, sort=self.query.sort, skip=start
            )
            documents = cursor if stop is None else cursor.limit(stop - start)
        if self.documents:
            return list(documents)
        return [model_from_document(self.query.model, document) for document in documents]

    def _slice_and_total(self, skip: int, limit: int) -> list[dict[str, Any]]:
        stages: list[dict[str, Any]] = []
        if self.query.sort:
            stages.append({"$sort": dict(self.query.sort)})
        if skip:
            stages.append({"$skip": skip})
        stages.append({"$limit": limit})
        if self.query.projection:
            stages.append({"$project": self.query.projection})
        (found,) = self._collection().aggregate(
            [
                {"$match": self.query.filter},
                {"$facet": {"slice": stages, "total": [{"$count": "n"}]}},
            ]
        )
        self._total = found["total"][0]["n"] if found["total"] else 0
        return found["slice"]

    def first(self) -> Model | dict[str, Any] | None:
        found = self[:1]
        return found[0] if found else None
