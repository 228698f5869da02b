from django.urls import path

from madoguchi.integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.home, name="home"),
]
