"""Admin: products with their stock columns, reviews, and reservations (read-only)."""

from django.contrib import admin

from products.models import Product, Reservation, Review


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "price", "quantity", "reserved", "sold", "seller"]
    list_filter = ["category"]
    search_fields = ["title", "seller"]
    # Stock moves only through reservations (or a seller's restock through the API), so the
    # admin shows it and never writes it over a concurrent reservation.
    readonly_fields = [
        "reserved",
        "sold",
        "rating_total",
        "review_count",
        "created_at",
        "updated_at",
    ]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(
                update_fields=[
                    name for name in form.changed_data if name not in self.readonly_fields
                ]
            )
        else:
            obj.save()


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "user_id", "rating", "created_at"]
    readonly_fields = ["product", "user_id", "rating", "created_at"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order_id", "state", "expires_at", "created_at", "updated_at"]
    list_filter = ["state"]
    search_fields = ["order_id"]
    readonly_fields = ["order_id", "state", "items", "expires_at", "created_at", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
