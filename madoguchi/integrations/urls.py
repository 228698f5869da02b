from django.urls import path

from madoguchi.integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.home, name="home"),
    path("keys/", views.api_keys, name="api_keys"),
    path("keys/<int:key_id>/created/", views.api_key_created, name="api_key_created"),
    path("keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<uuid:public_id>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<uuid:public_id>/created/", views.webhook_created, name="webhook_created"),
    path("webhooks/<uuid:public_id>/disable/", views.webhook_disable, name="webhook_disable"),
    path("deliveries/<uuid:public_id>/resend/", views.delivery_resend, name="delivery_resend"),
    path("export/", views.export, name="export"),
]
