from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "madoguchi.approvals"
    label = "approvals"
    verbose_name = _("電子決裁")

    def ready(self) -> None:
        # Internal documents are a subject like any other: their outcome hook lives in
        # ``services`` and their summary provider in ``subjects``.
        from madoguchi.approvals import services, subjects  # noqa: F401
