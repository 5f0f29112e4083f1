"""Product ids are ObjectId hex strings; anything else is rejected before reaching the database."""

from __future__ import annotations

import re

from bson import ObjectId

_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")


def parse_object_id(value: object) -> ObjectId | None:
    """The ObjectId spelled by ``value`` (24 hex digits), or None for anything else."""
    if isinstance(value, str) and _OBJECT_ID.match(value):
        return ObjectId(value)
    return None
