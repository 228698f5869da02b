from django.urls import path

from madoguchi.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox_list, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:message_id>/", views.inbox_detail, name="inbox_detail"),
    path("profile/", views.profile, name="profile"),
    path("consents/", views.consent_list, name="consents"),
    path("consents/grant/", views.consent_grant, name="consent_grant"),
    path("consents/withdraw/", views.consent_withdraw, name="consent_withdraw"),
]
