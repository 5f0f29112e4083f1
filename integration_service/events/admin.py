"""The event log in the admin: read-only, filterable by type and outcome, searchable by id."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ecommerce_common.admin import EventTypeFilter, LargeTableAdmin
from events.models import ProcessedEvent


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(LargeTableAdmin):
    list_display = (
        "event_id",
        "event_type",
        "order_id",
        "outcome",
        "result",
        "attempts",
        "duplicate_deliveries",
        "received_at",
        "completed_at",
    )
    list_filter = (EventTypeFilter, "outcome", "received_at")
    search_fields = ("=event_id", "=order_id")
    ordering = ("-received_at",)
    readonly_fields = [field.name for field in ProcessedEvent._meta.fields]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ProcessedEvent | None = None
    ) -> bool:
        return False
