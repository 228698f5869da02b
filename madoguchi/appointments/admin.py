"""Counters, their hours, procedures and closed days are configured in the admin.
Slots can be looked at (and their capacity changed); appointments and tickets are
read only here, because they change only through ``services`` (with audit records
and messages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from madoguchi.appointments import clock, services
from madoguchi.appointments.models import (
    Appointment,
    AppointmentSlot,
    ClosedDay,
    Counter,
    CounterProcedure,
    OpeningHours,
    QueueTicket,
)
from madoguchi.core.models import User


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class CounterProcedureInline(admin.TabularInline):
    model = CounterProcedure
    extra = 0


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "department", "ticket_prefix", "floor", "desks", "active")
    list_filter = ("active", "department")
    search_fields = ("name", "code")
    inlines = (OpeningHoursInline, CounterProcedureInline, ClosedDayInline)
    actions = ("generate_slots",)

    @admin.action(description=_("予約枠を作る（今日から予約受付期間の終わりまで）"))
    def generate_slots(self, request: HttpRequest, queryset: QuerySet[Counter]) -> None:
        start = clock.today()
        end = start + dt.timedelta(days=services.booking_days())
        actor = request.user if isinstance(request.user, User) else None
        created = sum(services.slots_generate(counter=c, start=start, end=end, actor=actor) for c in queryset)
        self.message_user(request, _("予約枠を%(n)s件作りました。") % {"n": created}, messages.SUCCESS)


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    list_display = ("date", "counter", "reason")
    list_filter = ("counter",)
    date_hierarchy = "date"


@admin.register(AppointmentSlot)
class AppointmentSlotAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "counter", "procedure", "booked", "capacity")
    list_filter = ("counter", "procedure")
    date_hierarchy = "starts_at"
    readonly_fields = ("counter", "procedure", "starts_at", "ends_at", "booked")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "slot", "status", "created_at")
    list_filter = ("status", "slot__counter")
    search_fields = ("=public_id",)


@admin.register(QueueTicket)
class QueueTicketAdmin(ReadOnlyAdmin):
    list_display = ("service_date", "number", "issued_counter", "counter", "kind", "status", "called_at", "served_at")
    list_filter = ("status", "kind", "counter", "service_date")
