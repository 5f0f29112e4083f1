"""Raw SQL for the few hot writes the ORM cannot say in one statement (``INSERT … ON CONFLICT``).

``insert_parts`` gives the pieces of an INSERT of a model instance exactly as the ORM writes it,
so such a statement stores the same values as ``save()`` would.
"""

from __future__ import annotations

from dataclasses import dataclass
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
