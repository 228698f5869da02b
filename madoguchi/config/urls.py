from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from madoguchi.config.api import api

admin.site.site_header = _("madoguchi 管理画面")
admin.site.site_title = _("madoguchi 管理画面")
admin.site.index_title = _("設定")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("madoguchi.accounts.urls")),
    path("guide/", include("madoguchi.guide.urls")),
    path("portal/", include("madoguchi.portal.urls")),
    path("forms/", include("madoguchi.forms.urls")),
    path("payments/", include("madoguchi.payments.urls")),
    path("applications/", include("madoguchi.applications.urls")),
    path("staff/approvals/", include("madoguchi.approvals.urls")),
    path("staff/forms/", include("madoguchi.forms.builder_urls")),
    path("staff/integrations/", include("madoguchi.integrations.urls")),
    path("staff/", include("madoguchi.cases.urls")),
    path("notices/", include("madoguchi.cases.resident_urls")),
    path("counter/screen/", include("madoguchi.cases.screen_urls")),
    path("appointments/", include("madoguchi.appointments.urls")),
    path("reservations/", include("madoguchi.reservations.urls")),
    path("", include("madoguchi.catalog.urls")),
]
