"""Admin: orders with their items and status history, the outbox and idempotency records.

Everything is read-only here: status changes go through the state machine, never a form.
"""

from django.contrib import admin

from ecommerce_common.admin import EventTypeFilter, LargeTableAdmin
from orders.models import IdempotencyKey, Order, OrderItem, OutboxEvent, StatusHistory
from payments.models import Payment


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["product_id", "title", "unit_price", "quantity"]


class StatusHistoryInline(ReadOnlyInline):
    model = StatusHistory
    fields = ["created_at", "from_status", "to_status", "reason", "event_id", "published_event"]
    readonly_fields = ["created_at"]


class OutboxEventInline(ReadOnlyInline):
    model = OutboxEvent
    fields = ["created_at", "event_type", "state", "attempts", "sent_at"]
    readonly_fields = ["created_at"]


class PaymentInline(admin.StackedInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ["status", "amount", "currency", "provider", "charge_id", "refund_id", "attempts"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(LargeTableAdmin):
    list_display = ["id", "user_id", "status", "total_amount", "created_at", "updated_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["id", "user_id"]
    inlines = [OrderItemInline, StatusHistoryInline, PaymentInline, OutboxEventInline]
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(LargeTableAdmin):
    list_display = ["id", "event_type", "order", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state", EventTypeFilter, ("created_at", admin.DateFieldListFilter)]
    search_fields = ["id", "order__id"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(LargeTableAdmin):
    list_display = ["key", "user_id", "response_status", "order", "created_at"]
    search_fields = ["key", "user_id"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
