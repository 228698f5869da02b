from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_purge_expired_drafts, application_start
from madoguchi.core.models import AuditEvent, User


def test_expired_drafts_and_their_files_are_deleted_and_nothing_else(
    hanako: User,
    ichiro: User,
    free_juminhyo: None,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    old, _ = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    fresh, _ = application_start(applicant=ichiro, procedure_code="juminhyo-copy")
    path = default_storage.save("applications/old/letter.pdf", ContentFile(b"%PDF-1.4"))
    old.data = {**old.data, "power_of_attorney": {"id": path, "name": "letter.pdf", "content_type": "application/pdf"}}
    old.expires_at = timezone.now() - dt.timedelta(minutes=1)
    old.save(update_fields=["data", "expires_at"])
    submitted = Application.objects.create(
        procedure=old.procedure,
        form_definition=old.form_definition,
        applicant=ichiro,
        status="submitted",
        reference_number="2026-999999",
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert application_purge_expired_drafts() == 1
    assert not Application.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(path)
    assert Application.objects.filter(pk__in=[fresh.pk, submitted.pk]).count() == 2
    assert AuditEvent.objects.filter(action="application.draft_expired", target_id=str(old.pk)).exists()
    call_command("purge_expired_drafts")  # nothing left to delete
    assert Application.objects.count() == 2
