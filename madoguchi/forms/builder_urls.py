"""The staff form builder (/staff/forms/)."""

from django.urls import path  # noqa: F401

app_name = "formbuilder"

urlpatterns: list[object] = []
