"""The staff form builder (/staff/forms/)."""

from django.urls import path

from madoguchi.forms import builder_views

app_name = "formbuilder"

V = "<slug:code>/v<int:version>/"

urlpatterns = [
    path("", builder_views.form_list, name="list"),
    path("import/", builder_views.form_import, name="import"),
    path("<slug:code>/new/", builder_views.form_new, name="new"),
    path(V, builder_views.editor, name="editor"),
    path(V + "edit/", builder_views.edit, name="edit"),
    path(V + "publish/", builder_views.publish, name="publish"),
    path(V + "delete/", builder_views.delete, name="delete"),
    path(V + "export.json", builder_views.form_export_view, name="export"),
    path(V + "json/", builder_views.json_editor, name="json"),
    path(V + "preview/", builder_views.preview, name="preview"),
    path(V + "fields/<int:step>/<int:field>/", builder_views.field_page, name="field"),
    path(V + "fields/<int:step>/<int:field>/sub/<int:sub>/", builder_views.subfield_page, name="subfield"),
    path(V + "rules/new/", builder_views.rule_new, name="rule_new"),
    path(V + "rules/<int:index>/", builder_views.rule_page, name="rule"),
]
