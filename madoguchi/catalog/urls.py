from django.urls import path

from madoguchi.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("procedures/", views.procedure_list_view, name="procedure_list"),
    path("procedures/<slug:code>/", views.procedure_detail, name="procedure_detail"),
]
