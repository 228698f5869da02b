"""The resident's second screen of 書かない窓口 (/counter/screen/): a tablet at the
counter, paired with the visit by a 6-digit code; no account needed."""

from django.urls import path

from madoguchi.cases import counter_views

app_name = "counter_screen"

urlpatterns = [
    path("", counter_views.screen, name="pair"),
    path("review/", counter_views.review, name="review"),
    path("done/", counter_views.done, name="done"),
]
