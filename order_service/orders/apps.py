from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "orders"

    def ready(self) -> None:
        # payments moves orders through these without importing orders.services, which
        # imports payments (payments/order_transitions.py).
        from orders.services import order_expire, order_status_apply
        from payments.order_transitions import OrderTransitions, order_transitions_register

        order_transitions_register(
            transitions=OrderTransitions(status_apply=order_status_apply, expire=order_expire)
        )
