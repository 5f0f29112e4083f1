from datetime import timedelta

from django.utils import timezone

from products.constants import ReservationState
from products.models import Reservation
from products.store import collection, insert


def reservation(order_id: str) -> Reservation:
    return Reservation(
        order_id=order_id,
        state=ReservationState.PENDING,
        items=[{"productId": "65a000000000000000000001", "title": None, "quantity": 2}],
        expires_at=timezone.now().replace(microsecond=0) + timedelta(minutes=15),
    )


def test_insert_stores_the_document_the_orm_would():
    by_orm, by_insert = reservation("order-orm"), reservation("order-insert")
    by_orm.save(force_insert=True)

    assert insert(by_insert) is True

    stored = {
        document["order_id"]: document
        for document in collection(Reservation).find({"_id": {"$in": [by_orm.pk, by_insert.pk]}})
    }
    orm, inserted = stored["order-orm"], stored["order-insert"]
    assert set(inserted) == set(orm)
    for key in orm.keys() - {"_id", "order_id", "created_at", "updated_at"}:
        assert inserted[key] == orm[key], key
    assert {key: type(value) for key, value in inserted.items()} == {
        key: type(value) for key, value in orm.items()
    }
    assert Reservation.objects.get(pk=by_insert.pk).items == by_insert.items


def test_insert_refuses_a_second_reservation_for_an_order_id():
    assert insert(reservation("order-1")) is True

    assert insert(reservation("order-1")) is False
    assert Reservation.objects.filter(order_id="order-1").count() == 1
