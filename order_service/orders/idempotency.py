"""``Idempotency-Key`` for ``POST /orders``: a replay returns the first answer and creates nothing.

The key is scoped to the user. The first definitive answer (the 201, or a 4xx such as
insufficient stock) is stored with a hash of the request body; a later request with the same
key and the same body gets that answer back, with a different body a 422. Server-side failures
(5xx) are not stored, so the client may retry them under the same key.

Concurrent requests with one key: the record is inserted in the same transaction as the order,
under a unique constraint, so only one order can ever be stored. The loser's transaction rolls
back (its reservation is released) and it answers what the winner stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from ecommerce_common.errors import ApiError, error_body
from orders.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from orders.models import IdempotencyKey as IdempotencyRecord
from orders.models import Order

KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotency_key_validate(key: str) -> str:
    if not KEY_FORMAT.match(key):
        raise InvalidIdempotencyKey()
    return key


def request_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_record_find(*, user_id: str, key: str, body_hash: str) -> IdempotencyRecord | None:
    record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if record is not None and record.request_hash != body_hash:
        raise IdempotencyKeyReused()
    return record


def order_create_idempotent(
    *,
    user_id: str,
    key: str,
    body_hash: str,
    create: Callable[[Callable[[Order], None]], Order],
    render: Callable[[Order], dict[str, Any]],
) -> tuple[int, dict[str, Any], bool]:
    """Run ``create`` once per (user, key); return (status, body, replayed).

    ``create`` receives the callback to run inside its storing transaction.
    """
    record = idempotency_record_find(user_id=user_id, key=key, body_hash=body_hash)
    if record is not None:
        return record.response_status, record.response_body, True

    def store(order: Order) -> None:
        IdempotencyRecord.objects.create(
            user_id=user_id,
            key=key,
            request_hash=body_hash,
            response_status=201,
            response_body=render(order),
            order=order,
        )

    try:
        order = create(store)
    except IntegrityError:
        record = idempotency_record_find(user_id=user_id, key=key, body_hash=body_hash)
        if record is None:
            raise
        return record.response_status, record.response_body, True
    except ApiError as exc:
        if exc.status_code >= 500:
            raise
        winner = _store_error(user_id=user_id, key=key, body_hash=body_hash, exc=exc)
        if winner is not None:
            return winner.response_status, winner.response_body, True
        raise
    return 201, render(order), False


def _store_error(
    *, user_id: str, key: str, body_hash: str, exc: ApiError
) -> IdempotencyRecord | None:
    """Record a definitive 4xx answer; if another request stored its answer first, return it."""
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                user_id=user_id,
                key=key,
                request_hash=body_hash,
                response_status=exc.status_code,
                response_body=error_body(str(exc.detail), exc.code, exc.errors),
            )
    except IntegrityError:
        return idempotency_record_find(user_id=user_id, key=key, body_hash=body_hash)
    return None
