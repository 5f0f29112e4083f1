"""``Idempotency-Key`` for ``POST /orders``: a replay returns the first answer and creates nothing.

Keys are scoped to the user. A request first *claims* its key (a row inserted under a unique
constraint, before any stock is reserved), so of several concurrent requests with one key only
one does the work; the others answer 409 ``idempotency_key_in_use`` and may retry. The first
definitive answer (the 201, or a 4xx such as insufficient stock) is then stored with a hash of
the request body: a later request with the same key and body gets it back (same status, same
body), with a different body a 422. The 201 is stored in the same transaction as the order,
guarded by the claim, so at most one order can ever be stored per key. Server-side failures
(5xx) give the claim up, so the client may retry under the same key; a claim left by a crashed
request is taken over once it is older than ``IDEMPOTENCY_CLAIM_STALE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ecommerce_common.errors import ApiError, error_body
from orders.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidIdempotencyKey
from orders.models import IdempotencyKey as IdempotencyRecord
from orders.models import Order
from orders.services import order_create

KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")


class ClaimLost(Exception):
    """Another request took this key over; this one must not store anything."""


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


def _claim(*, user_id: str, key: str, body_hash: str) -> UUID | IdempotencyRecord:
    """Claim the key for this request; or return the completed record to replay."""
    token = uuid.uuid4()
    now = timezone.now()
    record = idempotency_record_find(user_id=user_id, key=key, body_hash=body_hash)
    if record is None:
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    user_id=user_id,
                    key=key,
                    request_hash=body_hash,
                    claim_token=token,
                    claimed_at=now,
                )
            return token
        except IntegrityError:
            record = idempotency_record_find(user_id=user_id, key=key, body_hash=body_hash)
            if record is None:
                raise IdempotencyKeyInUse() from None
    if record.completed:
        return record
    stale_before = now - timedelta(seconds=settings.IDEMPOTENCY_CLAIM_STALE_SECONDS)
    if record.claimed_at >= stale_before:
        raise IdempotencyKeyInUse()
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, claim_token=record.claim_token, response_status__isnull=True
    ).update(claim_token=token, claimed_at=now)
    if not taken:
        raise IdempotencyKeyInUse()
    return token


def _complete(
    *, user_id: str, key: str, token: UUID, status: int, body: dict, order: Order | None
) -> None:
    completed = IdempotencyRecord.objects.filter(
        user_id=user_id, key=key, claim_token=token, response_status__isnull=True
    ).update(response_status=status, response_body=body, order=order)
    if completed != 1:
        raise ClaimLost()


def _give_up(*, user_id: str, key: str, token: UUID) -> None:
    IdempotencyRecord.objects.filter(
        user_id=user_id, key=key, claim_token=token, response_status__isnull=True
    ).delete()


def _replay_or_in_use(*, user_id: str, key: str, body_hash: str) -> tuple[int, dict, bool]:
    record = idempotency_record_find(user_id=user_id, key=key, body_hash=body_hash)
    if record is None or not record.completed:
        raise IdempotencyKeyInUse()
    return record.response_status, record.response_body, True


def order_create_idempotent(
    *,
    user_id: str,
    key: str,
    request_data: Any,
    items: list[tuple[str, int]],
    claimed_total: Decimal | None,
    render: Callable[[Order], dict[str, Any]],
) -> tuple[int, dict[str, Any], bool]:
    """``orders.services.order_create`` at most once per (user, key); return (status, body,
    replayed).

    ``request_data`` is the request's body as sent (a replay must send the same one); ``render``
    gives the order's answer body, stored with the order inside its transaction.
    """
    body_hash = request_hash(request_data)
    claim = _claim(user_id=user_id, key=key, body_hash=body_hash)
    if isinstance(claim, IdempotencyRecord):
        return claim.response_status, claim.response_body, True
    token = claim
    body: dict[str, Any] = {}

    def store(order: Order) -> None:
        nonlocal body
        body = render(order)
        _complete(user_id=user_id, key=key, token=token, status=201, body=body, order=order)

    try:
        order_create(user_id=user_id, items=items, claimed_total=claimed_total, on_stored=store)
    except ClaimLost:
        return _replay_or_in_use(user_id=user_id, key=key, body_hash=body_hash)
    except ApiError as exc:
        if exc.status_code >= 500:
            _give_up(user_id=user_id, key=key, token=token)
            raise
        try:
            _complete(
                user_id=user_id,
                key=key,
                token=token,
                status=exc.status_code,
                body=error_body(str(exc.detail), exc.code, exc.errors),
                order=None,
            )
        except ClaimLost:
            return _replay_or_in_use(user_id=user_id, key=key, body_hash=body_hash)
        raise
    except BaseException:
        _give_up(user_id=user_id, key=key, token=token)
        raise
    # The answer is the body stored with the order (rendered once, inside its transaction).
    return 201, body, False
