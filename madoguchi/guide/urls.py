from django.urls import path

from madoguchi.guide import views

app_name = "guide"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("saved/", views.saved_list, name="saved_list"),
    path("saved/<int:pk>/", views.saved_detail, name="saved_detail"),
    path("saved/<int:pk>/mark/", views.saved_mark, name="saved_mark"),
    path("saved/<int:pk>/delete/", views.saved_delete, name="saved_delete"),
    path("<slug:event_code>/", views.start, name="start"),
    path("<slug:event_code>/ask/", views.ask, name="ask"),
    path("<slug:event_code>/checklist/", views.checklist, name="checklist"),
    path("<slug:event_code>/checklist/print/", views.checklist_print, name="checklist_print"),
    path("<slug:event_code>/checklist.pdf", views.checklist_pdf, name="checklist_pdf"),
    path("<slug:event_code>/checklist.ics", views.checklist_ics, name="checklist_ics"),
    path("<slug:event_code>/save/", views.save, name="save"),
]
