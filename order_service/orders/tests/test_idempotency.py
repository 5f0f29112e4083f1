"""Idempotency-Key on POST /orders: a replay answers the first answer and creates nothing."""

import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders.idempotency import request_hash
from orders.models import IdempotencyKey, Order

PRODUCT = "65a000000000000000000001"
BODY = {"items": [{"productId": PRODUCT, "quantity": 2}]}


@pytest.fixture
def catalogue(product_server):
    product_server.add_product(PRODUCT, title="Kettle", price="12.50", quantity=5)
    return product_server


def create(client, body=BODY, key="key-1"):
    return client.post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_replay_returns_the_first_answer_and_creates_nothing(customer_client, catalogue):
    first = create(customer_client)

    replay = create(customer_client)

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert first["Idempotent-Replayed"] == "false"
    assert Order.objects.count() == 1
    assert len(catalogue.reserve_calls()) == 1
    assert catalogue.available(PRODUCT) == 3


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_422(customer_client, catalogue):
    create(customer_client)

    response = create(customer_client, {"items": [{"productId": PRODUCT, "quantity": 1}]})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_replay_of_an_insufficient_stock_answer_is_the_same_409(customer_client, catalogue):
    too_many = {"items": [{"productId": PRODUCT, "quantity": 6}]}
    first = create(customer_client, too_many)
    catalogue.products[PRODUCT].available = 100

    replay = create(customer_client, too_many)

    assert first.status_code == replay.status_code == 409
    assert replay.json() == first.json()
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_server_side_failure_is_not_stored_so_the_client_can_retry(customer_client, catalogue):
    catalogue.fail_with = 503
    assert create(customer_client).status_code == 503

    catalogue.fail_with = None
    response = create(customer_client)

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().response_status == 201


@pytest.mark.django_db
def test_keys_are_scoped_to_the_user(customer_client, other_client, catalogue):
    mine = create(customer_client)
    theirs = create(other_client)

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["userId"] == "8"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "naïve"])
def test_a_malformed_key_is_400(customer_client, catalogue, key):
    response = create(customer_client, key=key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert catalogue.reserve_calls() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_order(verify_server, catalogue):
    token = verify_server.issue(user_id="7")
    responses = []
    barrier = threading.Barrier(4)

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        try:
            responses.append(create(client, key="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Order.objects.count() == 1
    created = [r for r in responses if r.status_code == 201]
    assert {r.json()["id"] for r in created} == {str(Order.objects.get().id)}
    others = [r for r in responses if r.status_code != 201]
    assert {r.json()["code"] for r in others} <= {"idempotency_key_in_use"}
    # Every losing request gave its reservation back: only the order's 2 units are held.
    assert catalogue.available(PRODUCT) == 3


@pytest.mark.django_db
def test_a_key_held_by_a_request_still_running_is_409_in_use(customer_client, catalogue):
    from django.utils import timezone

    IdempotencyKey.objects.create(
        user_id="7",
        key="key-1",
        request_hash=request_hash(BODY),
        claim_token=uuid.uuid4(),
        claimed_at=timezone.now(),
    )

    response = create(customer_client)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert catalogue.reserve_calls() == []


@pytest.mark.django_db
def test_a_key_abandoned_by_a_crashed_request_is_taken_over(customer_client, catalogue, settings):
    from datetime import timedelta

    from django.utils import timezone

    IdempotencyKey.objects.create(
        user_id="7",
        key="key-1",
        request_hash=request_hash(BODY),
        claim_token=uuid.uuid4(),
        claimed_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_CLAIM_STALE_SECONDS + 1),
    )

    response = create(customer_client)

    assert response.status_code == 201
    record = IdempotencyKey.objects.get()
    assert (record.response_status, str(record.order_id)) == (201, response.json()["id"])
