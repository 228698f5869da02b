"""What the approval page shows of this app's own subject, the internal document
(起案文書): its body and attachments (see ``hooks.subject_summary``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.approvals import selectors
from madoguchi.approvals.hooks import SubjectSummary, subject_summary
from madoguchi.approvals.models import ApprovalRequest


@subject_summary("document")
def document_summary(request: ApprovalRequest) -> SubjectSummary | None:
    document = selectors.document_for_request(request)
    if document is None:
        return None
    links = [
        (
            _("添付: %(name)s（%(kb)s KB）") % {"name": a.name, "kb": f"{max(1, round(a.size / 1024)):,}"},
            reverse("approvals:attachment", args=[document.public_id, a.pk]),
        )
        for a in document.attachments.all()
    ]
    return SubjectSummary(
        title=document.title,
        fields=[
            (_("種類"), _("起案文書")),
            (_("本文"), document.body),
        ],
        links=links,
    )
