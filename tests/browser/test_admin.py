"""The admin sites as an operator uses them, in a real browser (Chromium) against the system."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

SERVICES = ("user_service", "product_service", "order_service", "integration_service")


def _open(page, api, service: str, path: str) -> None:
    """Open an admin page, logging in through the admin's own form when asked to."""
    page.goto(api.url(service, path))
    if "/admin/login/" in page.url:
        page.fill("#id_username", api.admin_email)
        page.fill("#id_password", api.admin_password)
        page.click("input[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/admin/login/"))


@pytest.mark.parametrize("service", SERVICES)
def test_the_admin_logs_in_to_each_service_admin_site_and_stays_logged_in_to_the_others(
    page, api, shot, service
):
    _open(page, api, service, "/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#content h1")).to_have_text("Site administration")
    expect(page.locator("#logout-form")).to_be_visible()
    shot(page, f"{service}-index")
    # One browser, every service on 127.0.0.1: logging in to one keeps the others' sessions.
    for other in SERVICES[: SERVICES.index(service)]:
        page.goto(api.url(other, "/admin/"))
        expect(page).not_to_have_url(re.compile(r"/admin/login/"))


def test_an_operator_finds_a_user_by_email(page, api, shot, paid_order):
    email = paid_order["buyer"]["email"]
    _open(page, api, "user_service", f"/admin/users/user/?q={email}")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(email)
    shot(page, "user_service-user-by-email")
    rows.first.locator("th a").click()
    expect(page.locator("#id_email")).to_have_value(email)


def test_an_operator_opens_an_order_by_id_and_sees_its_items_history_and_payment(
    page, api, shot, paid_order
):
    order_id = paid_order["order"]["id"]
    _open(page, api, "order_service", f"/admin/orders/order/?q={order_id}")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("confirmed")
    rows.first.locator("th a").click()
    expect(page.locator("#content h1")).to_contain_text("View order")
    items = page.locator("#items-group")
    expect(items).to_contain_text(paid_order["product"]["title"])
    expect(items).to_contain_text("2")
    history = page.locator("#history-group")
    for transition in ("payment_pending -> paid", "paid -> confirmed"):
        expect(history).to_contain_text(transition)
    payment = page.locator("#payment-group")
    expect(payment).to_contain_text("approved")
    expect(payment).to_contain_text("50")
    shot(page, "order_service-order")


def test_an_operator_sees_a_products_stock_columns_and_its_reservations(
    page, api, shot, paid_order
):
    product = paid_order["product"]
    _open(page, api, "product_service", f"/admin/products/product/?q={product['title']}")
    shot(page, "product_service-product-stock")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    headers = [h.strip() for h in page.locator("#result_list thead th").all_text_contents()]
    cells = [c.strip() for c in rows.first.locator("td, th").all_text_contents()]
    columns = dict(zip(headers, cells, strict=True))
    assert columns["Title"] == product["title"], columns
    # 7 listed, 2 bought by the confirmed order: 5 left to sell, none held, 2 sold.
    assert (columns["Quantity"], columns["Reserved"], columns["Sold"]) == ("5", "0", "2"), columns
    order_id = paid_order["order"]["id"]
    _open(page, api, "product_service", f"/admin/products/reservation/?q={order_id}")
    reservations = page.locator("#result_list tbody tr")
    expect(reservations).to_have_count(1)
    expect(reservations.first).to_contain_text(order_id)
    expect(reservations.first).to_contain_text(re.compile("committed", re.IGNORECASE))
    reservations.first.locator("th a").click()
    expect(page.locator("#content")).to_contain_text(product["id"])
    shot(page, "product_service-reservation")


def test_an_operator_sees_the_integration_event_log_of_an_order(page, api, shot, paid_order):
    order_id = paid_order["order"]["id"]
    _open(page, api, "integration_service", f"/admin/events/processedevent/?q={order_id}")
    shot(page, "integration_service-event-log")
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    for row in rows.all():
        expect(row).to_contain_text(order_id)
    paid = rows.filter(has_text="order.paid")
    expect(paid).to_have_count(1)
    expect(paid).to_contain_text(re.compile("applied", re.IGNORECASE))
