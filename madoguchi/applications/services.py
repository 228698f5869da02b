"""Writes of applications. Each service does its whole change in one
``transaction.atomic`` with an audit record (which never holds the answers).

Flow: ``application_start`` makes a draft with the current form version and fills in
what madoguchi already knows (prefill sources, each value marked with its source), or
returns the resident's open draft of the same procedure. ``application_save_step``
checks one page with ``engine.clean_step`` and saves it, or saves nothing and returns
the errors. ``application_submit`` checks every answer again with ``engine.clean_all``,
gives the 受付番号 and queues the confirmation mail and inbox message, all at once; the
same ``submission_key`` (a double click, a retried request) returns the same
application. A procedure with a fee goes through ``application_request_payment``
instead (``draft`` → ``awaiting_payment``), and the payment hook (``hooks.py``) submits
it when the payment is settled; ``application_payment_returned`` puts it back to
``draft`` if the payment was declined or cancelled.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from madoguchi.applications import machine
from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application, Channel, ReferenceCounter, StatusChange
from madoguchi.applications.prefill.registry import register as prefill_sources
from madoguchi.applications.selectors import application_open_draft
from madoguchi.applications.widgets import to_raw
from madoguchi.catalog.models import Procedure
from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.forms import engine
from madoguchi.forms.fields import is_empty
from madoguchi.forms.fields import registry as field_types
from madoguchi.forms.logic import evaluate, iter_fields
from madoguchi.forms.selectors import form_get_current
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import outbox_enqueue
from madoguchi.payments.machine import SETTLED
from madoguchi.payments.machine import Status as PaymentStatus
from madoguchi.payments.models import Payment
from madoguchi.payments.selectors import payment_list_for_object
from madoguchi.payments.services import payment_create, payment_start

PAYMENT_PURPOSE = "application"
DEFAULT_DRAFT_DAYS = 30
PAYMENT_ENDED = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.EXPIRED})


class NoOnlineForm(LookupError):
    """The procedure has no published online form."""


class NotEditable(Exception):
    """The application is no longer a draft."""


class UnknownStep(LookupError):
    """The step does not exist or is not shown with the current answers."""


class InvalidApplication(Exception):
    """Answers that do not pass the form's checks; ``errors`` maps field path → message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(f"{len(self.errors)} invalid answer(s)")


class PaymentRequired(Exception):
    """The procedure has a fee that is not paid yet."""


class IdempotencyConflict(ValueError):
    """The submission key was already used for another application."""


def _draft_expiry() -> dt.datetime:
    days = int(getattr(settings, "APPLICATIONS_DRAFT_DAYS", DEFAULT_DRAFT_DAYS))
    return timezone.now() + dt.timedelta(days=days)


def _fields(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["key"]: f for _s, f in iter_fields(definition)}


def _lock(application: Application) -> Application:
    # Lock the application row only: with select_related, FOR UPDATE would also lock
    # the procedure, form and account rows that every application shares.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("procedure", "form_definition", "applicant")
        .get(pk=application.pk)
    )


def _audit(application: Application, actor: User | None, action: str, **extra: Any) -> None:
    audit_record(
        actor=actor,
        action=f"application.{action}",
        target=application,
        data={
            "public_id": str(application.public_id),
            "procedure": application.procedure.code,
            "form_version": application.form_definition.version,
            "status": application.status,
            **extra,
        },
    )


def _record_change(application: Application, previous: str, actor: User | None, note: str = "") -> StatusChange:
    return StatusChange.objects.create(
        application=application, from_status=previous, to_status=application.status, actor=actor, note=note
    )


#: Sent inside the submitting transaction with ``application``: other apps (cases)
#: open their records in the same transaction, so a submitted application always has them.
application_submitted = Signal()

#: Sent inside the transaction of every status change after submission, with
#: ``application``, ``previous`` and ``actor`` (webhooks, notices).
application_status_changed = Signal()


def application_transition(
    *, application: Application, target: str, actor: User | None, note: str = "", **audit: Any
) -> Application:
    """Move a submitted application along the state machine (staff handling,
    resubmission after 補正, withdrawal), recording the change in the timeline and the
    audit log. Raises :class:`machine.IllegalTransition` (nothing changes). The caller
    decides who may do it; call it inside the caller's transaction."""
    with transaction.atomic():
        locked = _lock(application)
        previous = locked.status
        locked.status = machine.check_transition(previous, target)
        locked.save(update_fields=["status", "updated_at"])
        _record_change(locked, previous, actor, note)
        _audit(locked, actor, "transition", previous=previous, **audit)
        application_status_changed.send(sender=Application, application=locked, previous=previous, actor=actor)
    _copy(application, locked)
    return locked


def application_answers(application: Application) -> dict[str, Any]:
    """The saved answers as cleaned values (マイナンバー stays encrypted)."""
    return engine.from_stored(application.form_definition.definition, application.data)


def raw_answers(application: Application) -> dict[str, Any]:
    """The saved answers as a resident would type them (input for the engine)."""
    fields = _fields(application.form_definition.definition)
    return {k: to_raw(fields[k], v) for k, v in application_answers(application).items() if k in fields}


def fee_for(procedure: Procedure, answers: Mapping[str, Any]) -> int | None:
    """The fee of the application: the procedure's fee per copy when the form asks
    for a number of copies (``copies``), else the procedure's fee; ``None`` if free."""
    if not procedure.fee_yen:
        return None
    copies = answers.get("copies")
    if isinstance(copies, int) and not isinstance(copies, bool) and copies > 0:
        return procedure.fee_yen * copies
    return procedure.fee_yen


# -- start ------------------------------------------------------------------------------
def _prefill(definition: Mapping[str, Any], user: User) -> tuple[dict[str, Any], dict[str, str]]:
    """Cleaned initial answers and their sources. A value that does not pass the
    field's own check (an old phone number format …) is left out."""
    fields = _fields(definition)
    cleaned: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source in prefill_sources.ordered():
        initial = engine.prefill(definition, source.values(user))
        for key, raw in initial.items():
            if key in cleaned:
                continue
            field = fields[key]
            try:
                value = field_types.get(field["type"]).clean(raw, field, "ja")
            except ValidationError:  # a bad prefill value is simply not used
                value = None
            if not is_empty(value):
                cleaned[key] = value
                sources[key] = source.identifier
    return cleaned, sources


def application_start(
    *, applicant: User, procedure_code: str, channel: str = Channel.ONLINE
) -> tuple[Application, bool]:
    """The resident's open application of the procedure, or a new draft with the
    current form version and prefilled answers. Returns (application, created)."""
    existing = application_open_draft(user=applicant, procedure_code=procedure_code)
    if existing is not None:
        return existing, False
    form = form_get_current(procedure_code)
    if form is None:
        raise NoOnlineForm(procedure_code)
    cleaned, sources = _prefill(form.definition, applicant)
    first = engine.next_step(form.definition, None, cleaned) or ""
    with transaction.atomic():
        application = Application.objects.create(
            procedure=form.procedure,
            form_definition=form,
            applicant=applicant,
            channel=channel,
            data=engine.to_stored(form.definition, cleaned),
            prefill_sources=sources,
            current_step=first,
            expires_at=_draft_expiry(),
        )
        _audit(application, applicant, "start", prefilled=sorted(sources))
    return application, True


# -- steps ------------------------------------------------------------------------------
def visible_steps(application: Application) -> list[str]:
    return evaluate(application.form_definition.definition, application_answers(application)).visible_steps


def application_save_step(
    *, application: Application, step_key: str, raw: Mapping[str, Any], lang: str = "ja", actor: User | None = None
) -> tuple[Application, dict[str, str]]:
    """Check one page and save it. With errors nothing is saved and the errors (field
    path → message) are returned."""
    definition = application.form_definition.definition
    step = next((s for s in definition["steps"] if s["key"] == step_key), None)
    if step is None:
        raise UnknownStep(step_key)
    with transaction.atomic():
        locked = _lock(application)
        if locked.status not in machine.EDITABLE:
            raise NotEditable(locked.status)
        answers = application_answers(locked)
        step_fields = [f["key"] for f in step["fields"]]
        context = {k: v for k, v in answers.items() if k not in step_fields}
        if step_key not in evaluate(definition, answers).visible_steps:
            raise UnknownStep(step_key)
        cleaned, errors = engine.clean_step(definition, step_key, raw, lang, context=context)
        if errors:
            return locked, errors
        before = locked.data
        new_answers = {**context, **cleaned}
        locked.data = engine.to_stored(definition, new_answers)
        locked.prefill_sources = {
            k: v
            for k, v in locked.prefill_sources.items()
            if k not in step_fields or before.get(k) == locked.data.get(k)
        }
        if step_key not in locked.completed_steps:
            locked.completed_steps = [*locked.completed_steps, step_key]
        locked.current_step = engine.next_step(definition, step_key, new_answers) or ""
        locked.expires_at = _draft_expiry()
        locked.save(
            update_fields=["data", "prefill_sources", "completed_steps", "current_step", "expires_at", "updated_at"]
        )
        _audit(locked, actor, "save_step", step=step_key)
    return locked, {}


def application_check(application: Application, lang: str = "ja") -> tuple[dict[str, Any], dict[str, str]]:
    """Every answer checked again (hidden steps and fields dropped)."""
    return engine.clean_all(application.form_definition.definition, raw_answers(application), lang)


# -- submit -----------------------------------------------------------------------------
def _next_reference_number() -> str:
    """The next 受付番号 of this year (``2026-000123``), under a row lock on the year's
    counter so that concurrent submits never get the same number."""
    year = timezone.localdate().year
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{year}-{counter.last:06d}"


def _settled_payment(application: Application) -> Payment | None:
    payments = payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(application.public_id))
    return next((p for p in payments if p.settled_at is not None), None)


def _notify(application: Application) -> None:
    user = application.applicant
    language = user.preferred_language or "ja"
    link = reverse("applications:done", args=[application.public_id])
    with translation.override(language):
        procedure = application.procedure.name_en if language == "en" and application.procedure.name_en else None
        name = procedure or application.procedure.name
        subject = _("【%(ward)s】申請を受け付けました（受付番号 %(number)s）") % {
            "ward": settings.WARD_NAME,
            "number": application.reference_number,
        }
        body = _(
            "%(name)s 様\n\n次の申請を受け付けました。\n\n手続き: %(procedure)s\n受付番号: %(number)s\n"
            "受付日時: %(at)s\n\nお問い合わせの際は受付番号をお知らせください。申請の内容と受付票（PDF）は"
            "オンライン窓口のマイページで確認できます。\n\n%(ward)s"
        ) % {
            "name": user.display_name or user.email,
            "procedure": name,
            "number": application.reference_number,
            "at": timezone.localtime(application.submitted_at).strftime("%Y-%m-%d %H:%M")
            if application.submitted_at
            else "",
            "ward": settings.WARD_NAME,
        }
        inbox_subject = _("申請を受け付けました（%(procedure)s）") % {"procedure": name}
    base_key = f"application-submitted-{application.public_id}"
    for channel, channel_subject in (
        (OutboxMessage.Channel.EMAIL, subject),
        (OutboxMessage.Channel.INBOX, inbox_subject),
    ):
        outbox_enqueue(
            channel=channel,
            user=user,
            subject=channel_subject,
            body_text=body,
            dedupe_key=f"{base_key}-{channel}",
            link_url=link,
            language=language,
        )


def application_submit(
    *, application: Application, submission_key: str, actor: User | None = None, lang: str = "ja"
) -> Application:
    """Submit the application: check every answer again, give the 受付番号, queue the
    confirmation mail and inbox message, in one transaction. Idempotent: an
    application that is already submitted is returned as it is; a key used for
    another application raises :class:`IdempotencyConflict`. Raises
    :class:`InvalidApplication` and :class:`PaymentRequired` (nothing changes)."""
    if not submission_key:
        raise ValueError("submission_key is required")
    with transaction.atomic():
        locked = _lock(application)
        if locked.status in machine.RECEIVED:
            return locked
        other = Application.objects.filter(submission_key=submission_key).exclude(pk=locked.pk).exists()
        if other:
            raise IdempotencyConflict(submission_key)
        cleaned, errors = engine.clean_all(locked.form_definition.definition, raw_answers(locked), lang)
        if errors:
            raise InvalidApplication(errors)
        fee = fee_for(locked.procedure, cleaned)
        if fee and _settled_payment(locked) is None:
            raise PaymentRequired(fee)
        if locked.status == Status.DRAFT or not locked.submission_key:
            locked.submission_key = submission_key
        previous = locked.status
        locked.status = machine.check_transition(locked.status, Status.SUBMITTED)
        locked.data = engine.to_stored(locked.form_definition.definition, cleaned)
        locked.reference_number = _next_reference_number()
        locked.fee_yen = fee
        locked.submitted_at = timezone.now()
        locked.expires_at = None
        locked.current_step = ""
        locked.save(
            update_fields=[
                "status",
                "data",
                "reference_number",
                "submission_key",
                "fee_yen",
                "submitted_at",
                "expires_at",
                "current_step",
                "updated_at",
            ]
        )
        _audit(locked, actor, "submit", reference_number=locked.reference_number)
        _record_change(locked, previous, actor)
        application_submitted.send(sender=Application, application=locked)
        _notify(locked)
    _copy(application, locked)
    return locked


def _copy(stale: Application, fresh: Application) -> None:
    for name in (
        "status",
        "data",
        "reference_number",
        "submission_key",
        "fee_yen",
        "submitted_at",
        "expires_at",
        "current_step",
        "prefill_sources",
        "completed_steps",
        "updated_at",
    ):
        setattr(stale, name, getattr(fresh, name))


def application_create_and_submit(
    *, applicant: User, procedure_code: str, data: Mapping[str, Any], submission_key: str, lang: str = "ja"
) -> tuple[Application, bool]:
    """The API's one-shot application: check ``data`` against the current form and
    submit it. The same ``submission_key`` returns the earlier application
    (``created`` is False). Raises :class:`NoOnlineForm`, :class:`InvalidApplication`,
    :class:`PaymentRequired`, :class:`IdempotencyConflict`."""
    existing = Application.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        if existing.applicant_id != applicant.pk or existing.procedure.code != procedure_code:
            raise IdempotencyConflict(submission_key)
        return existing, False
    form = form_get_current(procedure_code)
    if form is None:
        raise NoOnlineForm(procedure_code)
    cleaned, errors = engine.clean_all(form.definition, data, lang)
    if errors:
        raise InvalidApplication(errors)
    if fee_for(form.procedure, cleaned):
        raise PaymentRequired(fee_for(form.procedure, cleaned))
    try:
        with transaction.atomic():
            application = Application.objects.create(
                procedure=form.procedure,
                form_definition=form,
                applicant=applicant,
                data=engine.to_stored(form.definition, cleaned),
                expires_at=_draft_expiry(),
            )
            _audit(application, applicant, "start", via="api")
            application = application_submit(
                application=application, submission_key=submission_key, actor=applicant, lang=lang
            )
    except IntegrityError:
        # The same key was submitted at the same moment by another request.
        existing = Application.objects.filter(submission_key=submission_key).first()
        if existing is None or existing.applicant_id != applicant.pk:
            raise
        return existing, False
    return application, True


# -- fees -------------------------------------------------------------------------------
def application_request_payment(
    *,
    application: Application,
    submission_key: str,
    return_url: str,
    cancel_url: str,
    actor: User | None = None,
    lang: str = "ja",
) -> str:
    """Check every answer, move the draft to ``awaiting_payment`` and start a payment
    of its fee; returns the URL of the provider's payment page. The same
    ``submission_key`` (a double click) gives the same payment."""
    with transaction.atomic():
        locked = _lock(application)
        if locked.status == Status.AWAITING_PAYMENT and locked.submission_key != submission_key:
            raise NotEditable(locked.status)
        if locked.status not in (Status.DRAFT, Status.AWAITING_PAYMENT):
            raise NotEditable(locked.status)
        cleaned, errors = engine.clean_all(locked.form_definition.definition, raw_answers(locked), lang)
        if errors:
            raise InvalidApplication(errors)
        fee = fee_for(locked.procedure, cleaned)
        if not fee:
            raise ValueError("the application has no fee")
        if Application.objects.filter(submission_key=submission_key).exclude(pk=locked.pk).exists():
            raise IdempotencyConflict(submission_key)
        if locked.status == Status.DRAFT:
            locked.status = machine.check_transition(locked.status, Status.AWAITING_PAYMENT)
            locked.submission_key = submission_key
            locked.fee_yen = fee
            locked.save(update_fields=["status", "submission_key", "fee_yen", "updated_at"])
            _audit(locked, actor, "request_payment", fee_yen=fee)
        with translation.override(lang):
            description = _("%(procedure)s 手数料") % {"procedure": locked.procedure.name}
        payment = payment_create(
            amount_yen=fee,
            description=description[:200],
            purpose=PAYMENT_PURPOSE,
            object_id=str(locked.public_id),
            payer=locked.applicant,
            idempotency_key=f"application:{locked.public_id}:{submission_key}"[:100],
        )
        url = payment_start(payment=payment, return_url=return_url, cancel_url=cancel_url, actor=actor)
    _copy(application, locked)
    return url


def application_latest_payment(application: Application) -> Payment | None:
    payments = payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(application.public_id))
    return payments[0] if payments else None


def application_payment_returned(*, application: Application, actor: User | None = None) -> Application:
    """The resident came back from the payment page. If the payment was declined,
    cancelled or expired, the application becomes a draft again (to pay again from
    the check page). A settled payment was already handled by the hook."""
    with transaction.atomic():
        locked = _lock(application)
        payment = application_latest_payment(locked)
        if locked.status == Status.AWAITING_PAYMENT and payment is not None and payment.status in PAYMENT_ENDED:
            locked.status = machine.check_transition(locked.status, Status.DRAFT)
            locked.submission_key = None
            locked.save(update_fields=["status", "submission_key", "updated_at"])
            _audit(locked, actor, "payment_not_completed", payment_status=payment.status)
    _copy(application, locked)
    return locked


def application_paid(payment: Payment) -> None:
    """The ``on_payment_settled("application")`` hook: submit the application whose
    fee this is. Runs inside the payment's transaction, once per payment."""
    if payment.status not in SETTLED:
        return
    application = (
        Application.objects.select_related("procedure", "form_definition").filter(public_id=payment.object_id).first()
    )
    if application is None or application.status in machine.RECEIVED:
        return
    key = application.submission_key or f"payment:{payment.public_id}"
    application_submit(application=application, submission_key=key, actor=None)


# -- files ------------------------------------------------------------------------------
def application_store_file(*, application: Application, field: Mapping[str, Any], upload: Any) -> dict[str, Any]:
    """Keep an uploaded file of a draft in the default storage and return the
    metadata the ``file`` field type checks. A file the field does not accept (type,
    size) is not stored; its metadata is returned so that the page shows the error."""
    name = str(getattr(upload, "name", "") or "")
    meta: dict[str, Any] = {
        "name": name,
        "size": int(getattr(upload, "size", 0) or 0),
        "content_type": str(getattr(upload, "content_type", "") or ""),
    }
    try:
        field_types.get("file").clean(meta, field, "ja")
    except ValidationError:
        return meta
    extension = ("." + name.rsplit(".", 1)[-1].lower())[:10] if "." in name else ""
    content: Any = upload
    if meta["content_type"] in PHOTO_FORMATS:
        stripped = strip_photo_metadata(upload, PHOTO_FORMATS[meta["content_type"]])
        if stripped is None:
            # Not the photo it claims to be: give it an unknown type and extension, which
            # the field refuses with 「この種類のファイルは添付できません。」
            meta.update(content_type="application/octet-stream", name=f"{name}.unknown")
            return meta
        content = stripped
    path = default_storage.save(f"applications/{application.public_id}/{uuid.uuid4().hex}{extension}", content)
    meta["id"] = path
    return meta


PHOTO_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def strip_photo_metadata(upload: Any, image_format: str) -> ContentFile[bytes] | None:
    """The photo re-encoded without EXIF and other metadata (location, camera, time),
    turned upright first; ``None`` if the file is not an image of that format."""
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.format != image_format:
                return None
            upright = ImageOps.exif_transpose(image)
            clean = upright.copy()
            clean.info.clear()  # Pillow writes only the metadata it is given
            buffer = io.BytesIO()
            clean.save(buffer, format=image_format, **({"quality": 95} if image_format == "JPEG" else {}))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return ContentFile(buffer.getvalue())


# -- expiry -------------------------------------------------------------------------------
def _stored_file_ids(value: Any) -> list[str]:
    """Storage ids of the files kept in an application's stored answers (top level and
    inside repeating groups)."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and "content_type" in value:
            return [value["id"]]
        return [i for v in value.values() for i in _stored_file_ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _stored_file_ids(v)]
    return []


def _delete_files(paths: list[str]) -> None:
    for path in paths:
        default_storage.delete(path)


def application_purge_expired_drafts(*, now: dt.datetime | None = None) -> int:
    """Delete drafts whose keeping period (``APPLICATIONS_DRAFT_DAYS`` since the last
    saved page) has passed, with their uploaded files. Submitted applications and
    drafts waiting for a payment are never touched. Returns how many were deleted."""
    now = now or timezone.now()
    expired = Application.objects.filter(status=Status.DRAFT, expires_at__lt=now).values_list("pk", flat=True)
    deleted = 0
    for pk in list(expired[:1000]):
        with transaction.atomic():
            draft = Application.objects.select_for_update(of=("self",)).filter(pk=pk).first()
            if draft is None or draft.status != Status.DRAFT or draft.expires_at is None or draft.expires_at >= now:
                continue  # resumed or submitted meanwhile
            files = _stored_file_ids(draft.data)
            audit_record(
                actor=None,
                action="application.draft_expired",
                target=draft,
                data={"procedure": draft.procedure_id, "files": len(files)},
            )
            draft.delete()
            transaction.on_commit(functools.partial(_delete_files, files))
            deleted += 1
    return deleted
