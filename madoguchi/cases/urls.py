from django.urls import path

from madoguchi.cases import counter_views, views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.inbox, name="inbox"),
    path("cases/assign/", views.bulk_assign, name="bulk_assign"),
    path("cases/<str:reference_number>/", views.case_detail, name="detail"),
    path("cases/<str:reference_number>/resident/", views.resident_record, name="resident"),
    path("cases/<str:reference_number>/notice.pdf", views.notice, name="notice"),
    path("cases/<str:reference_number>/files/<slug:field_key>/", views.attachment, name="attachment"),
    path("cases/<str:reference_number>/<slug:action>/", views.case_action, name="action"),
    path("counter/", counter_views.search, name="counter"),
    path("counter/start/", counter_views.visit_start, name="counter_start"),
    path("counter/<uuid:public_id>/", counter_views.visit, name="counter_visit"),
    path("counter/<uuid:public_id>/<slug:action>/", counter_views.visit_action, name="counter_action"),
]
