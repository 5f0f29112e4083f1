"""The stock audit: finds stock that an interruption left out and counters that disagree with the
reservations, and (with ``repair``) mends them.

Run by ``manage.py stock_audit [--repair]`` and, repairing, by ``POST /internal/stock/repair``,
which integration_service's beat calls periodically, as it calls the expiry sweep.

Two passes, each safe beside live traffic:

1. Stock still out. A hold whose reservation is released or expired (a release or expiry
   interrupted after its state move), or whose reservation is gone; a hold of a committed
   reservation long after the commit (a commit interrupted before its stock moved); a committed
   release's token still on a product (its return interrupted); a token of a release that lost
   its state move. Each is finished by the step that was interrupted (``stock._finish_release``,
   ``stock._sell_held``), which is safe to repeat and to race. A hold whose reservation is gone
   first gets a released record for its order id, so that no new reservation can take a hold
   under that id, and is given back only if it is still there after that.
2. Counters. The reservations are the ledger: a product's ``reserved`` must be the sum of its
   holds, and ``sold`` the units of committed reservations (and of released ones whose token is
   still on the product) that hold nothing there. A drift is mended by setting ``reserved`` and
   ``sold`` to what the ledger says and moving the difference to or from available, so the
   product's total (which only the seller sets) is kept; one that would take available below
   zero is oversold stock, reported and left to the seller. The write is conditional on the
   product document being exactly as read, and a product one of whose reservations changed
   within ``SETTLE_GRACE`` is left for the next run, so the audit never mends a count that a
   stock move in flight was changing.

Only reservations settled for ``SETTLE_GRACE`` count as interrupted, so a release in progress is
not reported. The audit reads every product and then every reservation once, and looks nothing
up one by one (a periodic job, not a hot path: its cost grows with the catalogue and the sales
kept; products it mends in the first pass wait for the next run's count).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId
from django.db import IntegrityError
from django.utils import timezone

from products.constants import INACTIVE_STATES, ReservationState
from products.models import Product, Reservation
from products.stock import _drop_return, _finish_release, _lines_of, _sell_held, _to_millis
from products.store import collection as _collection
from products.store import from_store as _from_store
from products.store import model_from_document

logger = logging.getLogger(__name__)

# How long a reservation must have stood still before its stock still out counts as left behind.
SETTLE_GRACE = timedelta(minutes=1)
# The findings an answer of the repair endpoint lists (all are counted and logged).
LISTED_FINDINGS = 100


class FindingKind(StrEnum):
    LEAKED_HOLD = "leaked_hold"
    UNFINISHED_COMMIT = "unfinished_commit"
    UNFINISHED_RETURN = "unfinished_return"
    STALE_RETURN_TOKEN = "stale_return_token"
    COUNTER_DRIFT = "counter_drift"


@dataclass
class Finding:
    kind: FindingKind
    product_id: str
    order_id: str | None
    detail: str
    mended: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "productId": self.product_id,
            "orderId": self.order_id,
            "detail": self.detail,
            "mended": self.mended,
        }

    def describe(self) -> str:
        order = f" order {self.order_id}" if self.order_id else ""
        outcome = "mended" if self.mended else "not mended"
        return f"{self.kind}: product {self.product_id}{order}: {self.detail} ({outcome})"


@dataclass
class StockAudit:
    repair: bool
    products: int = 0
    reservations: int = 0
    busy_products: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def mended(self) -> int:
        return sum(finding.mended for finding in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "repair": self.repair,
            "products": self.products,
            "reservations": self.reservations,
            "busyProducts": self.busy_products,
            "mended": self.mended,
            "unmended": len(self.findings) - self.mended,
            "findings": [finding.as_dict() for finding in self.findings[:LISTED_FINDINGS]],
        }

    def report(self) -> list[str]:
        lines = [
            f"Stock audit: {self.products} product(s), {self.reservations} reservation(s), "
            f"{self.busy_products} product(s) busy (left for the next run)."
        ]
        lines += [finding.describe() for finding in self.findings]
        if not self.findings:
            lines.append(
                "Nothing to mend: every hold has its open reservation, every count adds up."
            )
        elif not self.repair:
            lines.append(f"{len(self.findings)} finding(s); run with --repair to mend them.")
        else:
            lines.append(f"{self.mended} of {len(self.findings)} finding(s) mended.")
        return lines


def stock_audit(*, repair: bool, now: datetime | None = None) -> StockAudit:
    """Audit every product's stock against the reservations; mend what was found if ``repair``.

    ``now`` (default: the current time) decides which reservations are settled; tests move it.
    One read of the products, then one of the reservations (after it, so that a reservation
    missing there was gone after its hold was seen).
    """
    settled_before = (now or timezone.now()) - SETTLE_GRACE
    audit = StockAudit(repair=repair)
    products = {
        doc["_id"]: doc
        for doc in _collection(Product).find(
            {}, {"quantity": 1, "reserved": 1, "sold": 1, "holds": 1, "returns": 1}
        )
    }
    audit.products = len(products)
    ledger = _read_ledger(audit, products, settled_before=settled_before)
    mended = _audit_stock_out(audit, products, ledger.records, settled_before=settled_before)
    _audit_counters(audit, products, ledger, skip=ledger.busy | mended)
    for finding in audit.findings:
        level = logging.ERROR if repair and not finding.mended else logging.WARNING
        logger.log(level, "stock audit finding", extra=finding.as_dict())
    logger.info(
        "stock audited",
        extra={key: value for key, value in audit.as_dict().items() if key != "findings"},
    )
    return audit


@dataclass
class _Ledger:
    """What the reservations say about the products read: units sold per product, products with
    a reservation that changed within the grace, and the reservations of the orders that have a
    hold or a token on a product."""

    sold: dict[ObjectId, int] = field(default_factory=lambda: defaultdict(int))
    busy: set[ObjectId] = field(default_factory=set)
    records: dict[str, Reservation] = field(default_factory=dict)


def _read_ledger(
    audit: StockAudit, products: dict[ObjectId, dict[str, Any]], *, settled_before: datetime
) -> _Ledger:
    holders = {
        product_id: {hold["orderId"] for hold in doc.get("holds", [])}
        for product_id, doc in products.items()
    }
    wanted = set().union(*holders.values()) if holders else set()
    wanted |= {_order_of(token) for doc in products.values() for token in doc.get("returns", [])}
    items_field = Reservation._meta.get_field("items")
    updated_field = Reservation._meta.get_field("updated_at")
    ledger = _Ledger()
    for doc in _collection(Reservation).find():
        audit.reservations += 1
        order_id, state, token = doc["order_id"], doc["state"], doc.get("release_token")
        if order_id in wanted:
            ledger.records[order_id] = model_from_document(Reservation, doc)
        updated_at = _from_store(updated_field, doc.get("updated_at"))
        recent = updated_at is None or updated_at > settled_before
        for item in _from_store(items_field, doc.get("items")) or []:
            product_id = ObjectId(item["productId"])
            product = products.get(product_id)
            if product is None:
                continue
            if recent:
                ledger.busy.add(product_id)
            elif order_id in holders[product_id]:
                continue  # Counted in reserved, through its hold.
            elif state == ReservationState.COMMITTED or (
                state == ReservationState.RELEASED and token and token in product.get("returns", [])
            ):
                ledger.sold[product_id] += int(item["quantity"])
    audit.busy_products = len(ledger.busy)
    return ledger


# --- pass 1: stock still out ----------------------------------------------------------------


def _audit_stock_out(
    audit: StockAudit,
    products: dict[ObjectId, dict[str, Any]],
    reservations: dict[str, Reservation],
    *,
    settled_before: datetime,
) -> set[ObjectId]:
    """Find (and, repairing, mend) stock still out; return the products it mended."""
    documents = [doc for doc in products.values() if doc.get("holds") or doc.get("returns")]
    to_finish: dict[str, tuple[Reservation, list[Finding]]] = {}
    to_sell: dict[str, tuple[Reservation, list[Finding]]] = {}
    orphans: dict[str, list[tuple[ObjectId, int, Finding]]] = defaultdict(list)
    stale_tokens: list[tuple[ObjectId, str, Finding]] = []

    def found(kind: FindingKind, product_id: ObjectId, order_id: str, detail: str) -> Finding:
        finding = Finding(kind, str(product_id), order_id, detail)
        audit.findings.append(finding)
        return finding

    for doc in documents:
        product_id = doc["_id"]
        for hold in doc.get("holds", []):
            order_id, units = hold["orderId"], int(hold["quantity"])
            reservation = reservations.get(order_id)
            if reservation is None:
                finding = found(
                    FindingKind.LEAKED_HOLD,
                    product_id,
                    order_id,
                    f"{units} unit(s) held, no reservation",
                )
                orphans[order_id].append((product_id, units, finding))
            elif reservation.updated_at > settled_before:
                continue
            elif reservation.state in INACTIVE_STATES:
                finding = found(
                    FindingKind.LEAKED_HOLD,
                    product_id,
                    order_id,
                    f"{units} unit(s) held by a reservation {reservation.state}",
                )
                to_finish.setdefault(order_id, (reservation, []))[1].append(finding)
            elif reservation.state == ReservationState.COMMITTED:
                finding = found(
                    FindingKind.UNFINISHED_COMMIT,
                    product_id,
                    order_id,
                    f"{units} unit(s) still held by a committed reservation",
                )
                to_sell.setdefault(order_id, (reservation, []))[1].append(finding)
        for token in doc.get("returns", []):
            order_id = _order_of(token)
            reservation = reservations.get(order_id)
            if reservation is not None and reservation.updated_at > settled_before:
                continue
            if reservation is not None and reservation.release_token == token:
                finding = found(
                    FindingKind.UNFINISHED_RETURN,
                    product_id,
                    order_id,
                    "a release from committed has not given these units back yet",
                )
                to_finish.setdefault(order_id, (reservation, []))[1].append(finding)
            elif reservation is None or reservation.state != ReservationState.COMMITTED:
                finding = found(
                    FindingKind.STALE_RETURN_TOKEN,
                    product_id,
                    order_id,
                    "the token of a release that another one beat",
                )
                stale_tokens.append((product_id, token, finding))

    if not audit.repair:
        return set()
    for reservation, findings in to_finish.values():
        _finish_release(reservation)
        _mark_mended(findings)
    for reservation, findings in to_sell.values():
        _sell_held(reservation.order_id, _lines_of(reservation))
        _mark_mended(findings)
    for product_id, token, finding in stale_tokens:
        _drop_return(product_id, token)
        finding.mended = True
    for order_id, holds in orphans.items():
        _give_back_orphaned(order_id, holds, audit=audit)
    return {ObjectId(finding.product_id) for finding in audit.findings if finding.mended}


def _give_back_orphaned(
    order_id: str, holds: list[tuple[ObjectId, int, Finding]], *, audit: StockAudit
) -> None:
    """Give back holds whose reservation was missing when read.

    A released record is inserted for the order id first: once it is there no reservation can be
    made for the id, so any hold of the order still on its products is left behind and comes
    back. When the insert fails a reservation exists again (a new attempt), and when no hold is
    left the one read was given back meanwhile: the finding was a false alarm and is dropped
    (with the record, so the order id can be used).
    """
    tombstone = Reservation(
        order_id=order_id,
        state=ReservationState.RELEASED,
        items=[
            {"productId": str(product_id), "title": None, "unitPrice": None, "quantity": units}
            for product_id, units, _ in sorted(holds, key=lambda hold: hold[0])
        ],
        expires_at=_to_millis(timezone.now()),
    )
    try:
        tombstone.save(force_insert=True)
    except IntegrityError:
        _drop_findings(audit, [finding for _, _, finding in holds])
        return
    still_held = _collection(Product).count_documents(
        {"_id": {"$in": [product_id for product_id, _, _ in holds]}, "holds.orderId": order_id}
    )
    if not still_held:
        _collection(Reservation).delete_one(
            {"_id": tombstone.pk, "state": ReservationState.RELEASED}
        )
        _drop_findings(audit, [finding for _, _, finding in holds])
        return
    _finish_release(tombstone)
    _mark_mended([finding for _, _, finding in holds])


# --- pass 2: counters against the ledger ----------------------------------------------------


def _audit_counters(
    audit: StockAudit,
    products: dict[ObjectId, dict[str, Any]],
    ledger: _Ledger,
    *,
    skip: set[ObjectId],
) -> None:
    collection = _collection(Product)
    sold = ledger.sold
    for product_id, doc in products.items():
        if product_id in skip:
            continue
        available, reserved_now, sold_now = (
            int(doc.get(key, 0)) for key in ("quantity", "reserved", "sold")
        )
        reserved = sum(int(hold["quantity"]) for hold in doc.get("holds", []))
        if (reserved_now, sold_now) == (reserved, sold[product_id]) and available >= 0:
            continue
        mended_available = available + (reserved_now - reserved) + (sold_now - sold[product_id])
        finding = Finding(
            FindingKind.COUNTER_DRIFT,
            str(product_id),
            None,
            f"available {available}, reserved {reserved_now}, sold {sold_now}; the reservations "
            f"say reserved {reserved}, sold {sold[product_id]}",
        )
        audit.findings.append(finding)
        if mended_available < 0:
            finding.detail += (
                "; short of stock already sold or reserved (oversold): left to the seller"
            )
            continue
        finding.detail += f", so available {mended_available}"
        if audit.repair:
            unchanged = {
                "_id": product_id,
                "quantity": doc.get("quantity"),
                "reserved": doc.get("reserved"),
                "sold": doc.get("sold"),
            }
            for key in ("holds", "returns"):
                unchanged[key] = doc.get(key, {"$exists": False})
            written = collection.update_one(
                unchanged,
                {
                    "$set": {
                        "quantity": mended_available,
                        "reserved": reserved,
                        "sold": sold[product_id],
                    }
                },
            )
            finding.mended = written.modified_count == 1


def _order_of(token: str) -> str:
    return token.rsplit("/", 1)[0]


def _mark_mended(findings: list[Finding]) -> None:
    for finding in findings:
        finding.mended = True


def _drop_findings(audit: StockAudit, findings: list[Finding]) -> None:
    dropped = {id(finding) for finding in findings}
    audit.findings = [finding for finding in audit.findings if id(finding) not in dropped]
