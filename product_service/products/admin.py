"""Admin: products with their stock columns, reviews, and reservations (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest

from products import services
from products.errors import StockChanged
from products.models import Product, Reservation, Review


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "price", "quantity", "reserved", "sold", "seller"]
    list_filter = ["category"]
    search_fields = ["title", "seller"]
    # Stock moves only through reservations (or a restock of `quantity`), so the admin shows
    # reserved and sold stock and never writes them over a concurrent reservation.
    readonly_fields = [
        "reserved",
        "sold",
        "rating_total",
        "review_count",
        "created_at",
        "updated_at",
    ]

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        if change:
            # Write only the changed fields (one $set), never the whole document.
            fields = [n for n in form.changed_data if n not in self.readonly_fields]
            if "quantity" in fields:
                fields.remove("quantity")
                self._restock(request, obj, seen=form.initial["quantity"])
            obj.save(update_fields=fields)
        else:
            obj.save()

    def _restock(self, request: HttpRequest, obj: Product, *, seen: int) -> None:
        """A restock, as the API makes it: the difference from what the form was built on."""
        try:
            services.product_update(
                product=Product(pk=obj.pk, quantity=seen), changes={"quantity": obj.quantity}
            )
        except StockChanged as exc:
            self.message_user(
                request, f"Quantity not changed: {exc.errors['quantity']}", level=messages.ERROR
            )

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        # Stock held by open reservations must be committed or released first.
        if obj is not None and obj.reserved:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        services.product_delete(product=obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The bulk delete would bypass the reservation check; products are deleted one by one.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "user_id", "rating", "created_at"]
    readonly_fields = ["product", "user_id", "rating", "created_at"]

    def delete_model(self, request: HttpRequest, obj: Review) -> None:
        services.review_delete(review=obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The bulk delete would leave the products' ratings counting the deleted reviews.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order_id", "state", "expires_at", "created_at", "updated_at"]
    list_filter = ["state"]
    search_fields = ["order_id"]
    readonly_fields = ["order_id", "state", "items", "expires_at", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Reservation | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Reservation | None = None) -> bool:
        return False
