from django.urls import path

from madoguchi.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.inbox, name="inbox"),
    path("counter/", views.counter, name="counter"),
]
