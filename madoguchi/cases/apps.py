from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "madoguchi.cases"
    label = "cases"
    verbose_name = _("案件処理")

    def ready(self) -> None:
        from madoguchi.applications.services import application_status_changed, application_submitted
        from madoguchi.cases import approval, receivers  # approval registers its hooks

        application_submitted.connect(receivers.on_submitted, dispatch_uid="cases.on_submitted")
        application_status_changed.connect(receivers.on_status_changed, dispatch_uid="cases.on_status_changed")
        del approval
        from madoguchi.applications.hooks import add_document_provider
        from madoguchi.cases.selectors import notice_documents

        add_document_provider(notice_documents)
