"""Every query of every per-request path is served by an index (EXPLAIN, no full scan).

``HOT_PATHS`` is the one list of what a buyer's requests and the worker's calls make
order_service do. Each runs as a client would, over 20,000 earlier orders seeded in the tables
(``ecommerce_common.testing.history``); every query it made that reads a table is planned, and
one that would read a table end to end fails the test (``ecommerce_common.testing.explain``).

``ADMIN_LISTS`` are the operator's list pages over the same tables: they page by the table's
estimated size (``ecommerce_common.admin.LargeTableAdmin``), never by counting it.
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecommerce_common.admin import COUNT_AT_MOST, EstimatedCountPaginator, estimated_rows
from ecommerce_common.testing.explain import assert_page_uses_indexes, report, sequential_scans
from ecommerce_common.testing.history import ORDERS_SQL, history_seed
from orders.models import Order
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory

PRODUCT = "65a000000000000000000001"
ITEMS = {"items": [{"productId": PRODUCT, "quantity": 1}]}
HISTORY = 20_000


def create(clients, order):
    return clients.customer.post("/orders", ITEMS, format="json")


def create_with_key(clients, order):
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    clients.customer.post("/orders", ITEMS, format="json", **key)  # the claim
    return clients.customer.post("/orders", ITEMS, format="json", **key)  # the stored answer


def list_own(clients, order):
    return clients.customer.get("/orders")


def detail(clients, order):
    return clients.customer.get(f"/orders/{order.id}")


def status(clients, order):
    return clients.customer.get(f"/orders/{order.id}/status")


def pay(clients, order):
    return clients.customer.post(
        f"/orders/{order.id}/pay", {"paymentToken": "tok_visa"}, format="json"
    )


def cancel(clients, order):
    return clients.customer.post(f"/orders/{order.id}/cancel")


def confirm(clients, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    body = {"status": "confirmed", "reason": "stock committed", "eventId": str(uuid.uuid4())}
    return clients.internal.put(f"/internal/orders/{order.id}/status", body, format="json")


def outbox_relay(clients, order):
    return clients.internal.post("/internal/outbox/relay")


def expire(clients, order):
    return clients.internal.post("/internal/orders/expire")


HOT_PATHS = [
    create,
    create_with_key,
    list_own,
    detail,
    status,
    pay,
    cancel,
    confirm,
    outbox_relay,
    expire,
]


ADMIN_LISTS = [
    "/admin/orders/order/",
    "/admin/orders/order/?status__exact=paid",
    "/admin/orders/outboxevent/",
    "/admin/orders/outboxevent/?state__exact=pending",
    "/admin/payments/payment/",
    "/admin/orders/idempotencykey/",
]


class Clients:
    def __init__(self, customer, internal):
        self.customer, self.internal = customer, internal


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """Earlier orders in the tables for this module's tests, with fresh statistics."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        history_seed(cursor, ORDERS_SQL, count=HISTORY, products=[PRODUCT])
        cursor.execute("ANALYZE")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_order CASCADE")


@pytest.fixture
def clients(history, customer_client, internal_client, product_server, gateway):
    product_server.add_product(PRODUCT, title="Kettle", price="12.50", quantity=100)
    return Clients(customer_client, internal_client)


@pytest.mark.django_db
@pytest.mark.parametrize("path", HOT_PATHS, ids=lambda path: path.__name__)
def test_every_query_of_a_hot_path_uses_an_index(clients, integration_queue, path):
    order = OrderFactory(user_id="7")
    OrderFactory(user_id="8")  # someone else's, so a filter on the user has rows to pass over

    with CaptureQueriesContext(connection) as captured:
        response = path(clients, order)

    assert response.status_code < 300, response.json()
    assert len(captured.captured_queries) > 1
    scans = sequential_scans(captured.captured_queries)
    assert scans == [], report(scans)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_LISTS)
def test_every_query_of_an_admin_list_uses_an_index(history, admin_client, url):
    assert_page_uses_indexes(admin_client, url)


@pytest.mark.django_db
def test_an_admin_list_pages_a_large_table_by_its_estimate_and_counts_a_filter_up_to_a_limit(
    history,
):
    OrderFactory(user_id="7")  # stored after the statistics: the estimate does not have it
    every_order = Order.objects.all()

    assert estimated_rows(table="orders_order") == HISTORY
    assert EstimatedCountPaginator(every_order, 100).count == HISTORY == every_order.count() - 1
    confirmed = Order.objects.filter(status=OrderStatus.CONFIRMED)
    assert EstimatedCountPaginator(confirmed, 100).count == COUNT_AT_MOST < confirmed.count()


@pytest.mark.django_db
def test_a_query_on_an_unindexed_column_or_a_whole_table_is_reported(history):
    with CaptureQueriesContext(connection) as captured:
        list(Order.objects.filter(total_amount=1))
        Order.objects.count()
        list(Order.objects.filter(user_id="7")[:20])  # on an index: not reported

    scans = sequential_scans(captured.captured_queries)

    assert [sql for sql, _ in scans] == [q["sql"] for q in captured.captured_queries[:2]], report(
        scans
    )
    assert all("orders_order" in plan for _, plan in scans)
