"""Admin: payments, read-only (charges and refunds go through the gateway services)."""

from django.contrib import admin

from ecommerce_common.admin import LargeTableAdmin
from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(LargeTableAdmin):
    list_display = ["id", "order", "status", "amount", "provider", "attempts", "created_at"]
    # Not by provider: listing its values would read every payment (one provider per deployment).
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["id", "order__id", "charge_id", "refund_id"]
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
