"""Read-only looks into the services' stores, to audit what the APIs do not show."""

from __future__ import annotations

from typing import Any

import psycopg
import pymongo
from bson import ObjectId

from launcher.processes import System


class Stores:
    def __init__(self, system: System) -> None:
        self.system = system
        self._mongo = pymongo.MongoClient(
            system.settings.mongodb_uri, serverSelectionTimeoutMS=5000
        )

    def sql(self, service: str, query: str, params: tuple = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.system.database_url(service), connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def stock(self, product_id: str) -> dict[str, int]:
        """available, reserved and sold of one product, straight from MongoDB."""
        document = self._mongo.get_default_database("ecommerce_products")["products"].find_one(
            {"_id": ObjectId(product_id)}, {"quantity": 1, "reserved": 1, "sold": 1}
        )
        return {
            "available": document["quantity"],
            "reserved": document["reserved"],
            "sold": document["sold"],
        }

    def outbox(self, order_id: str) -> list[tuple[str, str, dict]]:
        """(event type, state, envelope) of every outbox row of an order."""
        return self.sql(
            "order_service",
            "SELECT event_type, state, envelope FROM orders_outboxevent WHERE order_id = %s ORDER BY created_at",
            (order_id,),
        )

    def handled(self, order_id: str) -> list[tuple[str, str, int, int]]:
        """(event type, outcome, attempts, duplicate deliveries) the worker recorded for an order."""
        return self.sql(
            "integration_service",
            "SELECT event_type, outcome, attempts, duplicate_deliveries FROM events_processedevent "
            "WHERE order_id = %s ORDER BY received_at",
            (order_id,),
        )

    def transitions(self, order_id: str) -> list[str]:
        rows = self.sql(
            "order_service",
            "SELECT to_status FROM orders_statushistory WHERE order_id = %s ORDER BY created_at, id",
            (order_id,),
        )
        return [row[0] for row in rows]

    def gateway_ledger(self, order_id: str) -> list[tuple[str, str]]:
        """(kind, idempotency key) of what the simulated gateway did for an order: the money."""
        return self.sql(
            "order_service",
            "SELECT kind, idempotency_key FROM payments_simulatedgatewayentry "
            "WHERE idempotency_key IN (%s, %s) ORDER BY created_at",
            (order_id, f"refund-{order_id}"),
        )

    def payment_status(self, order_id: str) -> str:
        [(status,)] = self.sql(
            "order_service", "SELECT status FROM payments_payment WHERE order_id = %s", (order_id,)
        )
        return status
