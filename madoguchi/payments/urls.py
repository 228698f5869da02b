from django.urls import path

from madoguchi.payments import views

app_name = "payments"

urlpatterns = [
    path("webhook/<slug:provider>/", views.webhook, name="webhook"),
    path("sandbox/pay/<str:reference>/", views.sandbox_pay, name="sandbox_pay"),
    path("return/<uuid:public_id>/", views.payment_return, name="return"),
]
