from django.urls import path

from madoguchi.applications import views

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("start/<slug:procedure_code>/", views.start, name="start"),
    path("start/<slug:procedure_code>/anonymous/", views.start_anonymous, name="start_anonymous"),
    path("resume/<str:token>/", views.resume, name="resume"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/step/<slug:step_key>/", views.step, name="step"),
    path("<uuid:public_id>/check/", views.check, name="check"),
    path("<uuid:public_id>/submit/", views.submit, name="submit"),
    path("<uuid:public_id>/payment/return/", views.payment_return, name="payment_return"),
    path("<uuid:public_id>/done/", views.done, name="done"),
    path("<uuid:public_id>/correction/", views.correction, name="correction"),
    path("<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<uuid:public_id>/receipt.pdf", views.receipt, name="receipt"),
    path("<uuid:public_id>/files/<slug:field_key>/", views.attachment, name="attachment"),
]
