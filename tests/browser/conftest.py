"""One Chromium (Debian's, never a download), one context, against the session's system.

``./manage_all.sh test`` installs Chromium when it is missing (or says how to) and sets
``CHROMIUM``; screenshots go to ``tests/artifacts/browser`` (or ``TEST_ARTIFACTS_DIR``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or Path(__file__).parent.parent / "artifacts")
SCREENSHOTS = ARTIFACTS / "browser"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `apt-get update && apt-get install -y chromium` "
            "(./manage_all.sh test does it as root), or set CHROMIUM",
            pytrace=False,
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture(scope="session")
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def shot():
    """Save a full-page screenshot as a test artifact; return its path."""

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(scope="session")
def paid_order(api) -> dict:
    """A confirmed order of two units of a fresh product, and a buyer (over the public API)."""
    seller_token = api.admin_token()
    product = api.create_product(
        seller_token, quantity=7, title=f"Browser lamp {uuid.uuid4().hex[:6]}"
    )
    buyer, token = api.new_user()
    placed = api.place_order(token, [(product["id"], 2)])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert api.pay(token, order["id"]).status_code == 200
    api.wait_for_status(token, order["id"], "confirmed")
    return {"order": order, "product": product, "buyer": buyer}


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")
