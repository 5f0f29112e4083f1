"""Raw SQL for the few hot writes the ORM cannot say in one statement (``INSERT … ON CONFLICT``,
several rows of different tables at once).

``db_values`` prepares the values a hand-written statement binds as the ORM would.
``insert_parts`` gives the pieces of an INSERT of a model instance exactly as the ORM writes it,
so such a statement stores the same values as ``save()`` would. ``insert_together`` stores
several new instances in one round trip; ``insert_unless_exists`` one unless its unique key is
taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.db import connection
from django.db.models import Model


@dataclass(frozen=True)
class InsertParts:
    """Quoted table and columns, one ``%s`` per column, and the values to bind to them."""

    table: str
    columns: str
    placeholders: str
    params: list[Any]


def db_values(model: type[Model], **values: Any) -> list[Any]:
    """``values``, by field name (``pk`` for the primary key) and in the order given, each
    prepared by its field for the database as the ORM binds it (UUIDs, dates, foreign keys)."""
    meta = model._meta
    return [
        (meta.pk if name == "pk" else meta.get_field(name)).get_db_prep_save(value, connection)
        for name, value in values.items()
    ]


def insert_parts(instance: Model) -> InsertParts:
    """Every concrete field of ``instance`` (``auto_now`` ones set, values prepared for the
    database); a primary key that is still unset is left to the database."""
    fields = [
        field
        for field in type(instance)._meta.concrete_fields
        if not (field.primary_key and getattr(instance, field.attname) is None)
    ]
    quote = connection.ops.quote_name
    return InsertParts(
        table=quote(instance._meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        placeholders=", ".join(["%s"] * len(fields)),
        params=[
            field.get_db_prep_save(field.pre_save(instance, add=True), connection)
            for field in fields
        ],
    )


def insert_together(*instances: Model) -> None:
    """Store new ``instances`` as ``save()`` would, in one statement on PostgreSQL.

    Consecutive instances of one model are one multi-row INSERT (ids are drawn in the order
    given, as with ``bulk_create``); each INSERT but the last is a data-modifying ``WITH`` part
    of the last, so an order, its lines, its event and its history cost one round trip and one
    statement instead of one each. The parts run as one statement (one snapshot, no order
    between the parts), which is all plain INSERTs need; foreign keys are checked at commit
    (Django declares them ``DEFERRABLE INITIALLY DEFERRED``). Primary keys left to the database
    are not read back: use it for instances whose generated id nobody reads. Other stores run
    the INSERTs one by one. No ``save`` signals are sent.
    """
    statements: list[tuple[str, list[Any]]] = []
    for _, group in groupby(instances, key=type):
        inserts = [insert_parts(instance) for instance in group]
        first = inserts[0]
        if any(part.columns != first.columns for part in inserts):
            raise ValueError("instances of one model must all set their primary key or none")
        rows = ", ".join(f"({part.placeholders})" for part in inserts)
        # Only the model's own names are formatted in; every value is a bound parameter.
        sql = f"INSERT INTO {first.table} ({first.columns}) VALUES {rows}"  # noqa: S608
        statements.append((sql, [value for part in inserts for value in part.params]))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            *parts, (last, _) = statements
            with_parts = ", ".join(f"part{n} AS ({sql})" for n, (sql, _) in enumerate(parts))
            cursor.execute(
                f"WITH {with_parts} {last}", [value for _, params in statements for value in params]
            )
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def insert_unless_exists(instance: Model, *, conflict: str) -> bool:
    """Store the new ``instance`` unless a row with its value of the unique field ``conflict``
    exists already; whether it was stored. One ``INSERT … ON CONFLICT DO NOTHING``
    (PostgreSQL and SQLite), where ``get_or_create`` takes a SELECT and more."""
    insert = insert_parts(instance)
    column = connection.ops.quote_name(instance._meta.get_field(conflict).column)
    # Only the model's own names are formatted in; every value is a bound parameter.
    sql = (
        f"INSERT INTO {insert.table} ({insert.columns}) VALUES ({insert.placeholders}) "  # noqa: S608
        f"ON CONFLICT ({column}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, insert.params)
        stored = cursor.rowcount == 1
    if stored:
        instance._state.adding = False
        instance._state.db = connection.alias
    return stored
