"""Django admin for delivery records: attempts and dead letters, read-only.

Replaying dead letters is the one action offered, and it goes through the audited service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from delivery.models import DeadLetter, DeliveryAttempt
from integrations import services


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """Log rows: visible to whoever may view them, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyRecordAdmin):
    list_display = ("created_at", "integration", "outcome", "events", "delivered", "dead", "bytes", "status_code",
                    "duration_ms", "is_test")
    list_filter = ("outcome", "is_test", "integration")
    list_select_related = ("integration",)
    date_hierarchy = "created_at"
    search_fields = ("error",)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyRecordAdmin):
    list_display = ("created_at", "integration", "connector", "event_type", "attempts", "short_error", "replayed_at",
                    "replay_count")
    list_filter = ("connector", "integration", ("replayed_at", admin.EmptyFieldListFilter))
    list_select_related = ("integration", "event")
    date_hierarchy = "created_at"
    actions = ["replay_selected"]
    exclude = ("event",)
    readonly_fields = ("event_type", "event_id")

    @admin.display(description="event type")
    def event_type(self, obj: DeadLetter) -> str:
        return obj.event.type

    @admin.display(description="error")
    def short_error(self, obj: DeadLetter) -> str:
        return obj.error[:120]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("integrations.change_integration")

    @admin.action(description="Replay (queue for delivery again)", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        count = services.dead_letters_replay(actor=request.user, ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} dead letter(s) queued for delivery.")
