from django.urls import path

from madoguchi.reservations.views import public, resident, staff

app_name = "reservations"

urlpatterns = [
    path("", public.index, name="index"),
    path("facilities/<slug:code>/", public.facility_detail, name="facility_detail"),
    path("facilities/<slug:code>/book/", resident.book, name="book"),
    path("bookings/<str:public_id>/", resident.booking_detail, name="booking_detail"),
    path("bookings/<str:public_id>/pay/", resident.booking_pay, name="booking_pay"),
    path("bookings/<str:public_id>/confirm/", resident.booking_confirm, name="booking_confirm"),
    path("bookings/<str:public_id>/cancel/", resident.booking_cancel, name="booking_cancel"),
    path("my/", resident.my_reservations, name="my_reservations"),
    path("groups/new/", resident.group_new, name="group_new"),
    path("groups/<str:public_id>/", resident.group_detail, name="group_detail"),
    path("lotteries/", public.lottery_list, name="lottery_list"),
    path("lotteries/<int:pk>/", public.lottery_detail, name="lottery_detail"),
    path("lotteries/<int:pk>/draw.json", public.lottery_data, name="lottery_data"),
    path("lotteries/<int:pk>/apply/", resident.lottery_apply, name="lottery_apply"),
    path("applications/<str:public_id>/", resident.lottery_application, name="lottery_application"),
    path("applications/<str:public_id>/withdraw/", resident.lottery_withdraw, name="lottery_withdraw"),
    path("events/", public.event_list, name="event_list"),
    path("events/<int:pk>/", public.event_detail, name="event_detail"),
    path("events/<int:pk>/register/", resident.event_register, name="event_register"),
    path("registrations/<str:public_id>/", resident.registration_detail, name="registration_detail"),
    path("registrations/<str:public_id>/cancel/", resident.registration_cancel, name="registration_cancel"),
    path("opendata/", public.opendata_index, name="opendata"),
    path("opendata/facilities.csv", public.opendata_facilities, name="opendata_facilities"),
    path("opendata/events.csv", public.opendata_events, name="opendata_events"),
    path("staff/", staff.home, name="staff_home"),
    path("staff/facilities/<slug:code>/", staff.facility_day, name="staff_facility_day"),
    path("staff/groups/", staff.groups, name="staff_groups"),
    path("staff/groups/<str:public_id>/review/", staff.group_review, name="staff_group_review"),
    path("staff/lotteries/new/", staff.lottery_new, name="staff_lottery_new"),
    path("staff/lotteries/<int:pk>/", staff.lottery_detail, name="staff_lottery"),
    path("staff/lotteries/<int:pk>/draw/", staff.lottery_draw, name="staff_lottery_draw"),
    path("staff/lotteries/<int:pk>/notify/", staff.lottery_notify, name="staff_lottery_notify"),
    path("staff/events/new/", staff.event_new, name="staff_event_new"),
    path("staff/events/<int:pk>/", staff.event_detail, name="staff_event"),
    path(
        "staff/events/<int:pk>/checkin/<str:public_id>/",
        staff.event_checkin_registration,
        name="staff_event_checkin",
    ),
    path("staff/checkin/", staff.checkin, name="staff_checkin"),
]
