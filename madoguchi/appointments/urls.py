from django.urls import path

from madoguchi.appointments import queue_views, staff_views, views

app_name = "appointments"

urlpatterns = [
    # residents: counter appointments
    path("", views.index, name="index"),
    path("book/<slug:code>/", views.book, name="book"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/change/", views.change, name="change"),
    path("<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:public_id>/appointment.ics", views.ics, name="ics"),
    path("<uuid:public_id>/checkin/", views.checkin, name="checkin"),
    # the same-day queue (no account needed)
    path("kiosk/<slug:code>/", queue_views.kiosk, name="kiosk"),
    path("kiosk/<slug:code>/ticket/<str:token>/", queue_views.kiosk_ticket, name="kiosk_ticket"),
    path("take/<slug:code>/", queue_views.take, name="take"),
    path("ticket/<str:token>/", queue_views.ticket, name="ticket"),
    path("ticket/<str:token>/cancel/", queue_views.ticket_cancel, name="ticket_cancel"),
    path("display/<slug:slug>/", queue_views.display, name="display"),
    path("qr/<slug:code>.svg", queue_views.qr, name="qr"),
    # staff
    path("staff/", staff_views.home, name="staff_home"),
    path("staff/<slug:code>/day/", staff_views.day, name="staff_day"),
    path("staff/<slug:code>/appointments/<uuid:public_id>/", staff_views.mark, name="staff_mark"),
    path("staff/<slug:code>/queue/", staff_views.queue, name="staff_queue"),
    path("staff/<slug:code>/queue/action/", staff_views.queue_action, name="staff_queue_action"),
    path("staff/<slug:code>/poster/", staff_views.poster, name="staff_poster"),
    path("staff/<slug:code>/kiosk/", staff_views.kiosk_setup, name="staff_kiosk"),
]
