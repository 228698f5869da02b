"""Configuration of facilities (rooms, time blocks, closures) in the admin. Bookings,
lotteries and registrations are shown read-only: they change through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.reservations.models import (
    Booking,
    Event,
    EventRegistration,
    Facility,
    FacilityClosure,
    Group,
    LotteryRound,
    Room,
    TimeBlock,
)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


class TimeBlockInline(admin.TabularInline):
    model = TimeBlock
    extra = 0


class ClosureInline(admin.TabularInline):
    model = FacilityClosure
    extra = 0


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "department", "eligibility", "is_active")
    list_filter = ("kind", "department", "is_active")
    search_fields = ("name", "name_kana", "code")
    inlines = (RoomInline, TimeBlockInline, ClosureInline)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "place_name", "capacity", "is_published")
    list_filter = ("is_published", "department")
    search_fields = ("title",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "facility",
        "slot",
        "status",
        "source",
        "fee_yen",
        "refund_due",
        "refunded_yen",
        "created_at",
    )
    list_filter = ("status", "source", "refund_due", "facility")


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "card_number", "status", "representative", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "name_kana", "card_number")


@admin.register(LotteryRound)
class LotteryRoundAdmin(ReadOnlyAdmin):
    list_display = ("title", "facility", "month", "opens_at", "closes_at", "drawn_at", "win_count")
    exclude = ("seed_encrypted",)


@admin.register(EventRegistration)
class EventRegistrationAdmin(ReadOnlyAdmin):
    list_display = ("event", "user", "status", "created_at", "checked_in_at")
    list_filter = ("status",)
