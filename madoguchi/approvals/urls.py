from django.urls import path

from madoguchi.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.home, name="home"),
    path("r/<uuid:public_id>/", views.request_detail, name="detail"),
    path("r/<uuid:public_id>/act/", views.request_act, name="act"),
    path("r/<uuid:public_id>/withdraw/", views.request_withdraw, name="withdraw"),
    path("documents/new/", views.document_new, name="document_new"),
    path("documents/<uuid:public_id>/revise/", views.document_revise, name="document_revise"),
    path("documents/<uuid:public_id>/files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("delegation/", views.delegation, name="delegation"),
    path("delegation/<int:pk>/cancel/", views.delegation_cancel, name="delegation_cancel"),
    path("report/", views.report, name="report"),
]
