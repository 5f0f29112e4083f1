"""The Orders folder: order_service's place, pay, confirm, cancel, lists and access."""

from __future__ import annotations

from .items import UNKNOWN_ORDER_ID, UNKNOWN_PRODUCT_ID, folder, request
from .scripts import CLEAR_COOKIES, PAGE, error, order_shape, order_status, poll, status


def order_create(name: str, quantity: int, var: str, *, key: bool = False) -> dict:
    headers = {"Idempotency-Key": "{{idempotencyKey}}"} if key else None
    pre = (
        'pm.collectionVariables.set("idempotencyKey", pm.variables.replaceIn("{{$guid}}"));'
        if key
        else ""
    )
    return request(
        name,
        "POST",
        "orderUrl",
        "/orders",
        token="buyerToken",
        headers=headers,
        pre=pre,
        body={"items": [{"productId": "{{productId}}", "quantity": quantity}]},
        test=status(201)
        + order_shape()
        + f"""
const order = pm.response.json();
const price = Number(pm.collectionVariables.get("productPrice"));
pm.test("payment_pending, the buyer's, priced by the catalogue", () => {{
    pm.expect(order.status).to.eql("payment_pending");
    pm.expect(order.statusLabel).to.eql("payment pending");
    pm.expect(order.userId).to.eql(pm.collectionVariables.get("buyerId"));
    pm.expect(order.items).to.have.lengthOf(1);
    pm.expect(order.items[0].productId).to.eql(pm.collectionVariables.get("productId"));
    pm.expect(order.items[0].title).to.eql(pm.collectionVariables.get("productTitle"));
    pm.expect(order.items[0].unitPrice).to.eql(price);
    pm.expect(order.items[0].quantity).to.eql({quantity});
    pm.expect(order.totalAmount).to.be.closeTo({quantity} * price, 0.001);
}});
pm.collectionVariables.set("{var}", order.id);
""",
    )


def quantity_is(name: str, expected: int, *, wait: bool = False) -> dict:
    if not wait:
        return request(
            name,
            "GET",
            "productUrl",
            "/product/{{productId}}/quantity",
            test=status(200)
            + f"""
pm.test("available is {expected}", () => pm.expect(pm.response.json().quantity).to.eql({expected}));
""",
        )
    pre, test = poll("pollCount", f"pm.response.json().quantity === {expected}", status(200))
    return request(name, "GET", "productUrl", "/product/{{productId}}/quantity", pre=pre, test=test)


def wait_until_confirmed() -> dict:
    """Polls the order's status until the worker has confirmed it."""
    pre, test = poll(
        "pollCount",
        'pm.response.json().orderStatus.status === "confirmed"',
        status(200)
        + order_status("confirmed", "order confirmed")
        + """
pm.test("history: payment_pending → paid → confirmed", () => {
    const history = pm.response.json().history;
    pm.expect(history.map((h) => h.to)).to.eql(["payment_pending", "paid", "confirmed"]);
    history.forEach((h) => pm.expect(h).to.include.all.keys("from", "to", "reason", "createdAt"));
});
""",
    )
    return request(
        "Wait until the order is confirmed (GET /orders/{id}/status)",
        "GET",
        "orderUrl",
        "/orders/{{orderId}}/status",
        token="buyerToken",
        pre=pre,
        test=test,
    )


def refusals() -> list[dict]:
    """Orders refused, reserving nothing: no token, no items, unknown product, too many."""
    return [
        request(
            "Place an order without a token is 401",
            "POST",
            "orderUrl",
            "/orders",
            pre=CLEAR_COOKIES,
            body={"items": [{"productId": "{{productId}}", "quantity": 1}]},
            test=error(401),
        ),
        request(
            "Place an order of no items is 400",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": []},
            test=error(400, None, "items"),
        ),
        request(
            "Place an order of 0 of a product is 400",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": "{{productId}}", "quantity": 0}]},
            test=error(400, None, "items"),
        ),
        request(
            "Place an order of more units of a product than one order may hold is 409",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": "{{productId}}", "quantity": 101}]},
            test=error(409, "line_quantity_limit", "items"),
        ),
        request(
            "Place an order of an unknown product is 400",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": UNKNOWN_PRODUCT_ID, "quantity": 1}]},
            test=error(400, "unknown_product"),
        ),
        request(
            "Place an order of more than is in stock is 409 and reserves nothing",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": "{{productId}}", "quantity": 11}]},
            test=error(409, "insufficient_stock")
            + """
pm.test("the old system's message", () => pm.expect(pm.response.json().message).to.eql("not sufficient inventory"));
""",
        ),
    ]


def placing_and_paying() -> list[dict]:
    """An order with an Idempotency-Key, paid, then confirmed by the worker."""
    return [
        quantity_is("Nothing was reserved (10 available)", 10),
        order_create("Place an order (with an Idempotency-Key)", 2, "orderId", key=True),
        request(
            "Replaying the Idempotency-Key returns the first answer",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
            body={"items": [{"productId": "{{productId}}", "quantity": 2}]},
            test=status(201)
            + """
pm.test("the same order", () => pm.expect(pm.response.json().id).to.eql(pm.collectionVariables.get("orderId")));
""",
        ),
        request(
            "Reusing the Idempotency-Key for a different order is 422",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
            body={"items": [{"productId": "{{productId}}", "quantity": 3}]},
            test=error(422, "idempotency_key_reused"),
        ),
        request(
            "Pay the order (tok_visa)",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=status(200)
            + """
const body = pm.response.json();
pm.test("the order, paid (or already confirmed by the worker)", () => {
    pm.expect(body.id).to.eql(pm.collectionVariables.get("orderId"));
    pm.expect(body.status).to.be.oneOf(["paid", "confirmed"]);
});
pm.test("the payment: approved, for the order's total", () => {
    pm.expect(body.payment).to.include.all.keys("id", "status", "amount", "currency");
    pm.expect(body.payment.status).to.eql("approved");
    pm.expect(body.payment.amount).to.eql(body.totalAmount);
});
""",
        ),
        request(
            "Paying again is 409 already_paid (never charged twice)",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=error(409, "already_paid"),
        ),
        wait_until_confirmed(),
        quantity_is("The confirmed order's stock stays sold (8 available)", 8),
        request(
            "Get the order",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}",
            token="buyerToken",
            test=status(200)
            + order_shape()
            + """
pm.test("confirmed", () => {
    pm.expect(pm.response.json().status).to.eql("confirmed");
    pm.expect(pm.response.json().statusLabel).to.eql("order confirmed");
});
""",
        ),
    ]


def lists_and_access() -> list[dict]:
    """Lists and access: own orders only, admins all, others' are 404; bad ids."""
    return [
        request(
            "List my orders",
            "GET",
            "orderUrl",
            "/orders",
            token="buyerToken",
            test=status(200)
            + PAGE
            + """
pm.test("only mine, including the order", () => {
    const results = pm.response.json().results;
    pm.expect(results.map((o) => o.id)).to.include(pm.collectionVariables.get("orderId"));
    results.forEach((o) => pm.expect(o.userId).to.eql(pm.collectionVariables.get("buyerId")));
});
""",
        ),
        request(
            "Another user's order is 404",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}",
            token="strangerToken",
            test=error(404),
        ),
        request(
            "Another user's order status is 404",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}/status",
            token="strangerToken",
            test=error(404),
        ),
        request(
            "Another user cannot cancel it (404)",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/cancel",
            token="strangerToken",
            test=error(404),
        ),
        request(
            "Another user's list does not show it",
            "GET",
            "orderUrl",
            "/orders",
            token="strangerToken",
            test=status(200)
            + PAGE
            + """
pm.test("not there", () => pm.expect(pm.response.json().results.map((o) => o.id)).not.to.include(pm.collectionVariables.get("orderId")));
""",
        ),
        request(
            "An admin sees the order",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}",
            token="adminToken",
            test=status(200)
            + """
pm.test("the buyer's order", () => pm.expect(pm.response.json().userId).to.eql(pm.collectionVariables.get("buyerId")));
""",
        ),
        request(
            "An admin lists all orders",
            "GET",
            "orderUrl",
            "/orders",
            token="adminToken",
            query={"pageSize": "100"},
            test=status(200)
            + PAGE
            + """
pm.test("includes the buyer's order", () => pm.expect(pm.response.json().results.map((o) => o.id)).to.include(pm.collectionVariables.get("orderId")));
""",
        ),
        request(
            "Cancel a confirmed order is 409",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/cancel",
            token="buyerToken",
            test=error(409, "illegal_transition"),
        ),
        request(
            "A malformed order id is 404",
            "GET",
            "orderUrl",
            "/orders/not-a-uuid",
            token="buyerToken",
            test=error(404),
        ),
        request(
            "An invalid bearer token is 401",
            "GET",
            "orderUrl",
            "/orders",
            headers={"Authorization": "Bearer not-a-jwt"},
            test=error(401),
        ),
        request(
            "An unknown order is 404",
            "GET",
            "orderUrl",
            f"/orders/{UNKNOWN_ORDER_ID}",
            token="buyerToken",
            test=error(404),
        ),
    ]


def declined_payment() -> list[dict]:
    """A declined payment: 402, payment_failed, the stock returns."""
    return [
        order_create("Place an order to be declined", 1, "declinedOrderId"),
        request(
            "Pay with a declined card (tok_chargeDeclined) is 402",
            "POST",
            "orderUrl",
            "/orders/{{declinedOrderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_chargeDeclined"},
            test=error(402, "payment_declined"),
        ),
        request(
            "The declined order is payment_failed",
            "GET",
            "orderUrl",
            "/orders/{{declinedOrderId}}/status",
            token="buyerToken",
            test=status(200)
            + order_status("payment_failed", "payment failed")
            + """
pm.test("history: payment_pending → payment_failed", () => {
    pm.expect(pm.response.json().history.map((h) => h.to)).to.eql(["payment_pending", "payment_failed"]);
});
""",
        ),
        quantity_is("Wait until the declined order's stock returns (8 available)", 8, wait=True),
        request(
            "Paying a failed order again is 409",
            "POST",
            "orderUrl",
            "/orders/{{declinedOrderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=error(409, "illegal_transition"),
        ),
    ]


def cancelling() -> list[dict]:
    """A cancel: the stock returns; paying it then is 409."""
    return [
        order_create("Place an order to cancel", 3, "cancelOrderId"),
        quantity_is("The order holds its stock (5 available)", 5),
        request(
            "Cancel the order",
            "POST",
            "orderUrl",
            "/orders/{{cancelOrderId}}/cancel",
            token="buyerToken",
            test=status(200)
            + """
pm.test("cancelled", () => {
    pm.expect(pm.response.json().status).to.eql("cancelled");
    pm.expect(pm.response.json().statusLabel).to.eql("order cancelled");
});
""",
        ),
        quantity_is("Wait until the cancelled order's stock returns (8 available)", 8, wait=True),
        request(
            "Paying a cancelled order is 409",
            "POST",
            "orderUrl",
            "/orders/{{cancelOrderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=error(409, "illegal_transition"),
        ),
        request(
            "Pay without a payment token is 400",
            "POST",
            "orderUrl",
            "/orders/{{cancelOrderId}}/pay",
            token="buyerToken",
            body={},
            test=error(400, None, "paymentToken"),
        ),
    ]


def old_body() -> list[dict]:
    """The old single-item body {productId, quantity, totalAmount}."""
    return [
        request(
            "Place an order with the old body {productId, quantity, totalAmount}",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            pre="""
pm.collectionVariables.set("oldTotal", (Number(pm.collectionVariables.get("productPrice")) * 1).toFixed(2));
""",
            body='{\n  "productId": "{{productId}}",\n  "quantity": 1,\n  "totalAmount": {{oldTotal}}\n}',
            test=status(201)
            + order_shape()
            + """
const order = pm.response.json();
pm.test("one item, priced by the catalogue", () => {
    pm.expect(order.status).to.eql("payment_pending");
    pm.expect(order.items.map((i) => [i.productId, i.quantity])).to.eql([[pm.collectionVariables.get("productId"), 1]]);
    pm.expect(order.totalAmount).to.eql(Number(pm.collectionVariables.get("oldTotal")));
});
pm.collectionVariables.set("oldOrderId", order.id);
""",
        ),
        request(
            "Cancel the old-body order",
            "POST",
            "orderUrl",
            "/orders/{{oldOrderId}}/cancel",
            token="buyerToken",
            test=status(200),
        ),
        request(
            "The old body with a wrong totalAmount is 400 (prices come from the catalogue)",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"productId": "{{productId}}", "quantity": 1, "totalAmount": 0.01},
            test=error(400, "total_mismatch"),
        ),
        quantity_is("Wait until every cancelled order's stock returns (8 available)", 8, wait=True),
    ]


def orders_folder() -> dict:
    return folder(
        "Orders",
        "order_service: place (items, the old single-item body, Idempotency-Key), pay "
        "(tok_visa, tok_chargeDeclined), wait for the worker to confirm, status and history, "
        "cancel, lists and access (own orders only, admins all, others' are 404).",
        [
            *refusals(),
            *placing_and_paying(),
            *lists_and_access(),
            *declined_payment(),
            *cancelling(),
            *old_body(),
        ],
    )
