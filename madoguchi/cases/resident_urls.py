"""The resident's copy of a decision notice (/notices/<application>/)."""

from django.urls import path

from madoguchi.cases import views

app_name = "notices"

urlpatterns = [
    path("<uuid:public_id>/", views.resident_notice, name="download"),
]
