"""Reads of applications. Access is decided here: a resident sees only their own
applications; for anyone else an application does not exist (404)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.applications.machine import RECEIVED, Status
from madoguchi.applications.models import Application
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.forms.selectors import form_get_current


def application_get_for_applicant(*, user: User | AnonymousUser | Any, public_id: uuid.UUID | str) -> Application:
    """The application ``public_id`` if ``user`` made it; :class:`Http404` otherwise
    (also for anonymous users and malformed ids, so nothing tells them apart)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404 from exc
    application = (
        Application.objects.select_related("procedure", "form_definition")
        .filter(public_id=key, applicant_id=user.pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


def application_list_for_applicant(*, user: User) -> QuerySet[Application]:
    return (
        Application.objects.select_related("procedure", "form_definition")
        .filter(applicant=user)
        .order_by("-created_at", "-pk")
    )


def application_open_draft(*, user: User, procedure_code: str) -> Application | None:
    """The resident's unfinished application of this procedure, if any."""
    return (
        application_list_for_applicant(user=user)
        .filter(procedure__code=procedure_code, status__in=[Status.DRAFT, Status.AWAITING_PAYMENT])
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )


def application_last_submitted(*, applicant: User) -> Application | None:
    return (
        Application.objects.select_related("form_definition")
        .filter(applicant=applicant, status__in=RECEIVED)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def online_application_action(procedure: Procedure) -> list[tuple[str, str]]:
    """「オンラインで申請する」 on the procedure's page when it has a published form."""
    if form_get_current(procedure.code) is None:
        return []
    return [(str(_("オンラインで申請する")), reverse("applications:start", args=[procedure.code]))]
