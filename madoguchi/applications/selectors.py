"""Reads of applications. Access is decided here: a resident sees only their own
applications; an application made without an account is seen only in the browser
session that holds it (opened with its signed link, see ``links``); for anyone else
an application does not exist (404)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.applications import links
from madoguchi.applications.machine import RECEIVED, Status
from madoguchi.applications.models import Application, Correction, StatusChange
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import Resident, User
from madoguchi.forms import engine
from madoguchi.forms.fields import is_empty
from madoguchi.forms.logic import iter_fields
from madoguchi.forms.selectors import form_get_current
from madoguchi.portal.services import clean_phone


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


def _uuid(public_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404 from exc


def _counter_draft_for_staff(user: Any, key: uuid.UUID) -> Application | None:
    """書かない窓口: staff of the procedure's department fill in a counter draft for
    the resident (until the resident confirms it on the second screen)."""
    from madoguchi.accounts.selectors import is_staff_account
    from madoguchi.core.models import StaffRole

    if not is_staff_account(user):
        return None
    departments = StaffRole.objects.filter(user=user).values("department_id")
    return (
        Application.objects.select_related("procedure", "form_definition")
        .filter(public_id=key, channel="counter", status=Status.DRAFT, procedure__department_id__in=departments)
        .first()
    )


def application_get_for_visitor(
    *, user: User | AnonymousUser | Any, session: Any, public_id: uuid.UUID | str
) -> Application:
    """The application ``public_id`` if ``user`` made it, or if it was made without an
    account and this browser ``session`` holds it (opened with its signed link);
    :class:`Http404` otherwise."""
    key = _uuid(public_id)
    if getattr(user, "is_authenticated", False):
        own = (
            Application.objects.select_related("procedure", "form_definition")
            .filter(public_id=key, applicant_id=user.pk)
            .first()
        )
        if own is not None:
            return own
        counter = _counter_draft_for_staff(user, key)
        if counter is not None:
            return counter
    if str(key) not in links.session_ids(session):
        raise Http404
    held = (
        Application.objects.select_related("procedure", "form_definition")
        .filter(public_id=key, applicant__isnull=True)
        .exclude(applicant_email="")
        .first()
    )
    if held is None:
        raise Http404
    return held


def application_get_by_resume_link(*, token: str) -> Application:
    """The application a signed resume link opens. :class:`links.ResumeLinkError` for
    an expired or tampered link; :class:`Http404` when the application no longer
    exists (a draft deleted after its keeping period) or is not one without an
    account for that address."""
    public_id, email = links.read_resume_token(token)
    application = (
        Application.objects.select_related("procedure", "form_definition")
        .filter(public_id=_uuid(public_id), applicant__isnull=True, applicant_email__iexact=email)
        .first()
    )
    if application is None:
        raise Http404
    return application


def application_open_draft_in_session(*, session: Any, procedure_code: str) -> Application | None:
    """The unfinished application without an account of this procedure that the
    browser session holds, if any."""
    ids = links.session_ids(session)
    if not ids:
        return None
    keys = []
    for i in ids:
        try:
            keys.append(uuid.UUID(i))
        except ValueError:
            continue
    return (
        Application.objects.select_related("procedure", "form_definition")
        .filter(public_id__in=keys, applicant__isnull=True, procedure__code=procedure_code)
        .exclude(applicant_email="")
        .filter(status__in=[Status.DRAFT, Status.AWAITING_PAYMENT])
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-created_at")
        .first()
    )


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


def application_timeline(application: Application) -> list[StatusChange]:
    """Every status change of the application, oldest first (the resident's timeline)."""
    return list(StatusChange.objects.filter(application=application).order_by("created_at", "pk"))


# -- corrections (補正) -------------------------------------------------------------------
def correction_open(application: Application) -> Correction | None:
    """The correction request the resident has to answer, if the application waits for one."""
    if application.status != Status.CORRECTION_REQUESTED:
        return None
    return Correction.objects.filter(application=application, resolved_at__isnull=True).order_by("-pk").first()


def correction_list(*, application: Application) -> list[Correction]:
    """Every correction request of the application, newest first (for staff)."""
    return list(
        Correction.objects.select_related("requested_by").filter(application=application).order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class DiffRow:
    path: str
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def correction_diff(correction: Correction, lang: str = "ja", *, reveal_sensitive: bool = False) -> list[DiffRow]:
    """Label, answer before and answer after of every field of the correction (groups
    item by item), in the form's order; before resubmission ``after`` is empty.
    マイナンバー is masked unless ``reveal_sensitive`` (the caller's role check)."""
    definition = correction.application.form_definition.definition
    keys = set(correction.field_keys) | set(correction.before) | set(correction.after)

    def rows(stored: Mapping[str, Any]) -> dict[str, engine.SummaryRow]:
        answers = engine.from_stored(definition, {k: v for k, v in stored.items() if k in keys and v is not None})
        return {r.path: r for r in engine.summary(definition, answers, lang, reveal_sensitive=reveal_sensitive)}

    before = rows(correction.before)
    after = rows(correction.after) if correction.resolved_at is not None else {}
    order = [f["key"] for _s, f in iter_fields(definition)]
    paths = sorted(
        set(before) | set(after),
        key=lambda p: (order.index(p.split(".")[0]) if p.split(".")[0] in order else len(order), p),
    )
    result: list[DiffRow] = []
    for path in paths:
        row = after.get(path) or before[path]
        result.append(
            DiffRow(
                path=path,
                label=row.label,
                before=before[path].value if path in before else "",
                after=after[path].value if path in after else "",
            )
        )
    for key in sorted(keys - {p.split(".")[0] for p in paths}, key=lambda k: order.index(k) if k in order else 0):
        # A marked field that had no answer before and after.
        field = next((f for _s, f in iter_fields(definition) if f["key"] == key), None)
        if field is not None:
            label = str(field.get("label_en") or field["label"]) if lang == "en" else str(field["label"])
            result.append(DiffRow(path=key, label=label, before="", after=""))
    return result


# -- write-back of contact details ----------------------------------------------------
#: Prefill keys whose answers may be saved back to the resident's profile (with
#: consent): the contact details the resident keeps themselves. 基本4情報 and the
#: household come from the resident registry and are never written back.
WRITE_BACK_KEYS = {"resident.phone": "phone"}


@dataclass(frozen=True)
class WriteBackOffer:
    field_key: str
    label: str
    profile_field: str
    value: str
    current: str


def write_back_offers(application: Application, cleaned: Mapping[str, Any], lang: str = "ja") -> list[WriteBackOffer]:
    """The answers (``cleaned``) that differ from the contact details in the
    applicant's profile and may be saved there: only for an account linked to a
    registry record, only for fields prefilled from ``WRITE_BACK_KEYS``."""
    user = application.applicant
    if user is None or user.resident_id is None:
        return []
    resident = Resident.objects.filter(pk=user.resident_id).only("phone").first()
    if resident is None:
        return []
    offers: list[WriteBackOffer] = []
    for _step, field in iter_fields(application.form_definition.definition):
        target = WRITE_BACK_KEYS.get(str(field.get("prefill", "")))
        value = cleaned.get(field["key"])
        if target is None or is_empty(value):
            continue
        formatted = clean_phone(str(value))
        current = resident.phone or ""
        if formatted and formatted != current and target not in {o.profile_field for o in offers}:
            offers.append(
                WriteBackOffer(
                    field_key=field["key"],
                    label=str(field.get("label_en") or field["label"]) if lang == "en" else str(field["label"]),
                    profile_field=target,
                    value=formatted,
                    current=current,
                )
            )
    return offers


def application_attachment(application: Application, field_key: str) -> dict[str, Any]:
    """The stored metadata (``id``, ``name``, ``content_type`` …) of the file attached
    in ``field_key``; :class:`Http404` if there is none or it is gone from storage."""
    from django.core.files.storage import default_storage

    value = application.data.get(field_key) if isinstance(application.data, dict) else None
    if not isinstance(value, dict) or not value.get("id") or not default_storage.exists(value["id"]):
        raise Http404
    return value
