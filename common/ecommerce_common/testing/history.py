"""Earlier orders written straight into order_service's and integration_service's PostgreSQL.

What a confirmed order leaves behind (its order, item, three status changes, three outbox rows,
the approved payment, the Idempotency-Key it was placed under; the worker's ``order.paid``
record), ``count`` times, in a few
``INSERT ... SELECT generate_series`` statements: 50,000 orders take seconds. The benchmark's
flat-history scenario seeds them before it measures (bench/run.py), and the services' index tests
seed them so the planner sees tables of a real size (``ecommerce_common.testing.explain``).
Nothing seeded is in flight: every order is confirmed, every outbox row sent or not routed.
"""

from __future__ import annotations

# One row per seeded order, with the ids and times its rows share (both databases).
HISTORY_SQL = """
CREATE TEMP TABLE history AS
SELECT g AS n,
       md5('bench-history-order-' || g)::uuid AS order_id,
       md5('bench-history-created-' || g)::uuid AS created_event,
       md5('bench-history-paid-' || g)::uuid AS paid_event,
       md5('bench-history-confirmed-' || g)::uuid AS confirmed_event,
       md5('bench-history-payment-' || g)::uuid AS payment_id,
       now() - interval '30 days' + g * interval '1 second' AS at,
       'history-user-' || (g %% 500) AS user_id,
       (%(products)s::text[])[1 + g %% cardinality(%(products)s::text[])] AS product_id
FROM generate_series(1, %(count)s) AS g
"""
# Each order's three status changes: created (not routed), paid (sent), confirmed (not routed).
_STEPS = """
CROSS JOIN LATERAL (VALUES
  (h.created_event, 'order.created', 'payment_pending', NULL, 'order created', 'not_routed',
   interval '0 seconds', NULL),
  (h.paid_event, 'order.paid', 'paid', 'payment_pending', 'payment approved', 'sent',
   interval '1 second', NULL),
  (h.confirmed_event, 'order.confirmed', 'confirmed', 'paid',
   'stock committed for the paid order', 'not_routed', interval '2 seconds', h.paid_event::text)
) AS e(event_id, event_type, status, previous, reason, state, after, cause)
"""
_ENVELOPE = """
jsonb_build_object(
  'eventId', e.event_id::text, 'type', e.event_type, 'orderId', h.order_id::text,
  'occurredAt', to_char((h.at + e.after) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
  'version', 1,
  'data', jsonb_build_object(
    'userId', h.user_id, 'status', e.status, 'previousStatus', e.previous, 'reason', e.reason,
    'totalAmount', 10.0, 'currency', 'USD',
    'items', jsonb_build_array(jsonb_build_object(
      'productId', h.product_id, 'title', 'Bench stock item', 'unitPrice', 10.0, 'quantity', 1))))
"""
ORDERS_SQL = (
    "INSERT INTO orders_order (id, user_id, status, total_amount, currency, payment_deadline, "
    "created_at, updated_at) SELECT order_id, user_id, 'confirmed', 10.00, 'USD', "
    "at + interval '15 minutes', at, at + interval '2 seconds' FROM history",
    "INSERT INTO orders_orderitem (order_id, product_id, title, unit_price, quantity) "
    "SELECT order_id, product_id, 'Bench stock item', 10.00, 1 FROM history",
    "INSERT INTO orders_outboxevent (id, order_id, event_type, envelope, state, claimed_at, "
    "attempts, last_error, created_at, sent_at) SELECT e.event_id, h.order_id, e.event_type, "
    f"{_ENVELOPE}, e.state, CASE WHEN e.state = 'sent' THEN h.at + e.after END, "
    "CASE WHEN e.state = 'sent' THEN 1 ELSE 0 END, '', h.at + e.after, "
    f"CASE WHEN e.state = 'sent' THEN h.at + e.after END FROM history h {_STEPS}",
    "INSERT INTO orders_statushistory (order_id, from_status, to_status, reason, event_id, "
    "published_event_id, created_at) SELECT h.order_id, coalesce(e.previous, ''), e.status, "
    f"e.reason, e.cause, e.event_id, h.at + e.after FROM history h {_STEPS}",
    "INSERT INTO payments_payment (id, order_id, status, amount, currency, provider, charge_id, "
    "refund_id, decline_reason, last_error, attempts, created_at, updated_at) SELECT payment_id, "
    "order_id, 'approved', 10.00, 'USD', 'simulated', 'ch_' || md5(n::text), '', '', '', 1, "
    "at + interval '1 second', at + interval '1 second' FROM history",
    "INSERT INTO orders_idempotencykey (user_id, key, request_hash, claim_token, claimed_at, "
    "response_status, response_body, order_id, created_at) SELECT user_id, order_id::text, "
    "md5(n::text), payment_id, at, 201, jsonb_build_object('id', order_id::text), order_id, at "
    "FROM history",
)
EVENTS_SQL = (
    "INSERT INTO events_processedevent (event_id, event_type, order_id, outcome, result, "
    "attempts, duplicate_deliveries, replays, last_error, envelope, received_at, updated_at, "
    "completed_at) SELECT e.event_id::text, e.event_type, h.order_id::text, 'applied', "
    f"'confirmed', 1, 0, 0, '', {_ENVELOPE}, h.at + e.after, h.at + e.after + interval '50 ms', "
    f"h.at + e.after + interval '50 ms' FROM history h {_STEPS} WHERE e.event_type = 'order.paid'",
)


def history_seed(cursor, statements: tuple[str, ...], *, count: int, products: list[str]) -> None:
    """Write ``count`` earlier orders with ``statements`` (``ORDERS_SQL`` or ``EVENTS_SQL``)
    through a DB-API ``cursor``; each order's one item is one of ``products``."""
    cursor.execute(HISTORY_SQL, {"count": count, "products": products})
    for statement in statements:
        cursor.execute(statement)
    cursor.execute("DROP TABLE history")
