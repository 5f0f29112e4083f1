"""payments moves orders through what the orders app registers, never by importing
orders.services (which imports payments): the apps' services depend on each other one way."""

import ast
from pathlib import Path

from orders import services as order_services
from payments.order_transitions import order_transitions

PAYMENTS = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_no_payments_module_imports_orders_services():
    importers = [
        path.name
        for path in sorted(PAYMENTS.glob("*.py"))
        if any(module.startswith("orders.services") for module in _imported_modules(path))
    ]

    assert importers == []


def test_the_orders_app_registers_its_transitions_for_the_payment_step():
    transitions = order_transitions()

    assert transitions.status_apply is order_services.order_status_apply
    assert transitions.expire is order_services.order_expire
