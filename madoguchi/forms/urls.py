from django.urls import URLPattern

app_name = "forms"

urlpatterns: list[URLPattern] = []
