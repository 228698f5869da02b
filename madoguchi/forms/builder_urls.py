"""The staff form builder (/staff/forms/)."""

from django.urls import path

from madoguchi.forms import builder_views

app_name = "formbuilder"

urlpatterns = [
    path("", builder_views.form_list, name="list"),
]
