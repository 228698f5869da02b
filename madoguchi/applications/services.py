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

After submission: ``application_transition`` moves the application along the state
machine (timeline entry, audit, ``application_status_changed``).
``application_request_correction`` (staff, 補正) records a ``Correction`` and asks the
resident to change the marked answers; ``application_resubmit_correction`` takes only
those answers, checks everything again and goes back to ``in_review``.
``application_withdraw`` is the resident's 取下げ. A form with ``anonymous: true`` can
be started without an account (``application_start_anonymous``: the draft is tied to an
e-mail address, which gets a signed resume link, see ``links``). On submit, a ticked
「連絡先をマイページにも保存」 saves changed contact details to the profile with the
consent recorded (``_write_back``). See ``docs/applications.md``.
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
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from madoguchi.applications import links, machine
from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application, Channel, Correction, ReferenceCounter, StatusChange
from madoguchi.applications.prefill.registry import register as prefill_sources
from madoguchi.applications.selectors import application_open_draft, write_back_offers
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
from madoguchi.portal.purposes import PROFILE_WRITE_BACK
from madoguchi.portal.services import consent_grant, profile_contact_update

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


def _draft_days() -> int:
    return int(getattr(settings, "APPLICATIONS_DRAFT_DAYS", DEFAULT_DRAFT_DAYS))


def _draft_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=_draft_days())


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
def _prefill(
    definition: Mapping[str, Any], user: User, *, only: frozenset[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Cleaned initial answers and their sources (all sources, or those in ``only``).
    A value that does not pass the field's own check (an old phone number format …)
    is left out."""
    fields = _fields(definition)
    cleaned: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source in prefill_sources.ordered():
        if only is not None and source.identifier not in only:
            continue
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


class AnonymousNotAllowed(PermissionError):
    """The form of the procedure needs an account (its definition has no ``anonymous: true``)."""


def resume_url(application: Application) -> str:
    """The signed link (absolute, with the site address the applicant used) that opens
    an application without an account in a browser."""
    path = links.resume_path(public_id=str(application.public_id), email=application.applicant_email)
    return application.link_base_url.rstrip("/") + path


def application_start_anonymous(*, email: str, procedure_code: str, base_url: str, lang: str = "ja") -> Application:
    """A new draft without an account, tied to ``email``, for a form that allows it;
    the signed resume link is mailed to ``email`` in the same transaction. The only
    value filled in for them is that address (in fields prefilled from
    ``account.email``). Raises :class:`NoOnlineForm`, :class:`AnonymousNotAllowed`,
    ``ValidationError`` for an address that is not valid."""
    email = email.strip()
    validate_email(email)
    form = form_get_current(procedure_code)
    if form is None:
        raise NoOnlineForm(procedure_code)
    if not form.definition.get("anonymous"):
        raise AnonymousNotAllowed(procedure_code)
    fields = _fields(form.definition)
    cleaned: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, raw in engine.prefill(form.definition, {"account.email": email}).items():
        try:
            value = field_types.get(fields[key]["type"]).clean(raw, fields[key], "ja")
        except ValidationError:
            continue
        cleaned[key] = value
        sources[key] = ANONYMOUS_EMAIL_SOURCE
    first = engine.next_step(form.definition, None, cleaned) or ""
    with transaction.atomic():
        application = Application.objects.create(
            procedure=form.procedure,
            form_definition=form,
            applicant=None,
            applicant_email=email,
            applicant_language=lang if lang in dict(settings.LANGUAGES) else "ja",
            link_base_url=base_url.rstrip("/")[:200],
            data=engine.to_stored(form.definition, cleaned),
            prefill_sources=sources,
            current_step=first,
            expires_at=_draft_expiry(),
        )
        _audit(application, None, "start", anonymous=True)
        with translation.override(lang):
            name = procedure_name(application, lang)
            subject = _("【%(ward)s】申請の続きを入力するためのリンク（%(procedure)s）") % {
                "ward": settings.WARD_NAME,
                "procedure": name,
            }
            body = _(
                "%(ward)sのオンライン窓口で「%(procedure)s」の申請を始めました。\n\n"
                "次のリンクを開くと、保存した内容から続きを入力できます（%(days)s日間有効）。\n%(url)s\n\n"
                "このリンクを知っている人は申請の内容を見ることができます。ほかの人に転送しないでください。\n"
                "心当たりがない場合は、このメールを破棄してください。\n\n%(ward)s"
            ) % {"ward": settings.WARD_NAME, "procedure": name, "days": _draft_days(), "url": resume_url(application)}
        outbox_enqueue(
            channel=OutboxMessage.Channel.EMAIL,
            to_address=email,
            subject=subject,
            body_text=body,
            dedupe_key=f"application-resume-{application.public_id}",
            link_url=resume_url(application),
            language=lang,
        )
    return application


#: The prefill source of the address an applicant without an account gave first.
ANONYMOUS_EMAIL_SOURCE = "applicant_email"


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
    """The next 受付番号 of this year (``2026-000123``). On PostgreSQL it comes from a
    sequence of the year, which never blocks concurrent submissions (a submission that
    fails after taking its number leaves a gap); elsewhere from the year's counter
    row, locked until the transaction ends."""
    year = timezone.localdate().year
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        return f"{year}-{_sequence_next(connection, year):06d}"
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{year}-{counter.last:06d}"


def _sequence_next(connection: Any, year: int) -> int:
    """``nextval`` of the year's sequence, creating it on first use (starting after the
    year's counter row, if numbers were handed out from it)."""
    name = f"applications_reference_{year}"
    for _attempt in range(3):
        with connection.cursor() as cursor:
            # One statement, no savepoint: NULL while the sequence does not exist yet.
            cursor.execute("SELECT CASE WHEN to_regclass(%s) IS NOT NULL THEN nextval(%s::text) END", [name, name])
            value = cursor.fetchone()[0]
        if value is not None:
            return int(value)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                start = (ReferenceCounter.objects.filter(year=year).values_list("last", flat=True).first() or 0) + 1
                cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(start)}")
        except DatabaseError:
            pass  # created at the same moment by another transaction
    raise DatabaseError(f"could not take a number from {name}")


def _settled_payment(application: Application) -> Payment | None:
    payments = payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(application.public_id))
    return next((p for p in payments if p.settled_at is not None), None)


def procedure_name(application: Application, language: str) -> str:
    procedure = application.procedure
    return procedure.name_en if language == "en" and procedure.name_en else procedure.name


def applicant_language(application: Application) -> str:
    """The language of the applicant's mails: the account's choice, or the language
    an applicant without an account used when starting."""
    user = application.applicant
    return (user.preferred_language if user is not None else application.applicant_language) or "ja"


def _addressee(application: Application) -> str:
    user = application.applicant
    if user is None:
        return application.applicant_email
    return user.display_name or user.email


def _where_to_see(application: Application, url: str) -> str:
    """The closing sentence of a mail: the portal for an account, the signed link for
    an applicant without one."""
    if application.applicant is not None:
        return _("申請の内容と状況は、オンライン窓口のマイページで確認できます。")
    return _("次のリンクから申請の内容と状況を確認できます（%(days)s日間有効）。\n%(url)s") % {
        "days": _draft_days(),
        "url": url,
    }


def application_notify(
    *, application: Application, key: str, subject: str, inbox_subject: str, body: str, link: str
) -> None:
    """Queue the mail and the inbox message of an event to the applicant (the mail only,
    with the signed link, for an applicant without an account; nothing when there is
    neither an account nor an address). Call inside the caller's transaction."""
    user = application.applicant
    language = applicant_language(application)
    if user is None and not application.applicant_email:
        return  # no account and no address (e.g. made at the counter): nothing to send to
    if user is None:
        outbox_enqueue(
            channel=OutboxMessage.Channel.EMAIL,
            to_address=application.applicant_email,
            subject=subject,
            body_text=body,
            dedupe_key=f"{key}-{OutboxMessage.Channel.EMAIL}",
            link_url=resume_url(application),
            language=language,
        )
        return
    for channel, channel_subject in (
        (OutboxMessage.Channel.EMAIL, subject),
        (OutboxMessage.Channel.INBOX, inbox_subject),
    ):
        outbox_enqueue(
            channel=channel,
            user=user,
            subject=channel_subject,
            body_text=body,
            dedupe_key=f"{key}-{channel}",
            link_url=link,
            language=language,
        )


def _notify(application: Application) -> None:
    language = applicant_language(application)
    link = reverse("applications:done", args=[application.public_id])
    with translation.override(language):
        name = procedure_name(application, language)
        subject = _("【%(ward)s】申請を受け付けました（受付番号 %(number)s）") % {
            "ward": settings.WARD_NAME,
            "number": application.reference_number,
        }
        body = _(
            "%(name)s 様\n\n次の申請を受け付けました。\n\n手続き: %(procedure)s\n受付番号: %(number)s\n"
            "受付日時: %(at)s\n\nお問い合わせの際は受付番号をお知らせください。申請の内容と受付票（PDF）は"
            "オンライン窓口のマイページで確認できます。\n\n%(ward)s"
        ) % {
            "name": _addressee(application),
            "procedure": name,
            "number": application.reference_number,
            "at": timezone.localtime(application.submitted_at).strftime("%Y-%m-%d %H:%M")
            if application.submitted_at
            else "",
            "ward": settings.WARD_NAME,
        }
        if application.applicant is None:
            body = _(
                "%(name)s 様\n\n次の申請を受け付けました。\n\n手続き: %(procedure)s\n受付番号: %(number)s\n"
                "受付日時: %(at)s\n\nお問い合わせの際は受付番号をお知らせください。\n%(where)s\n\n%(ward)s"
            ) % {
                "name": _addressee(application),
                "procedure": name,
                "number": application.reference_number,
                "at": timezone.localtime(application.submitted_at).strftime("%Y-%m-%d %H:%M")
                if application.submitted_at
                else "",
                "where": _where_to_see(application, resume_url(application)),
                "ward": settings.WARD_NAME,
            }
        inbox_subject = _("申請を受け付けました（%(procedure)s）") % {"procedure": name}
    application_notify(
        application=application,
        key=f"application-submitted-{application.public_id}",
        subject=subject,
        inbox_subject=inbox_subject,
        body=body,
        link=link,
    )


def _write_back(application: Application, cleaned: Mapping[str, Any], actor: User | None) -> list[str]:
    """Save the changed contact details of the application to the resident's profile
    and record the consent to do so; inside the submitting transaction. Returns the
    profile fields written."""
    user = application.applicant
    offers = write_back_offers(application, cleaned)
    if user is None or not offers:
        return []
    consent_grant(user=user, purpose=PROFILE_WRITE_BACK)
    written: list[str] = []
    for offer in offers:
        if offer.profile_field == "phone":
            written += profile_contact_update(user=user, phone=offer.value, preferred_language=user.preferred_language)
    _audit(application, actor, "profile_write_back", fields=sorted(o.profile_field for o in offers))
    return written


def application_submit(
    *,
    application: Application,
    submission_key: str,
    actor: User | None = None,
    lang: str = "ja",
    write_back: bool | None = None,
    fee_at_counter: bool = False,
) -> Application:
    """Submit the application: check every answer again, give the 受付番号, queue the
    confirmation mail and inbox message, in one transaction. Idempotent: an
    application that is already submitted is returned as it is; a key used for
    another application raises :class:`IdempotencyConflict`. Raises
    :class:`InvalidApplication` and :class:`PaymentRequired` (nothing changes).
    ``write_back`` is the resident's choice on the check page (None: the choice
    recorded when the payment was started): when true, changed contact details are
    saved to the profile in the same transaction (``selectors.write_back_offers``),
    with the consent recorded and audited. ``fee_at_counter``: a counter application
    whose fee is paid at the counter's till, not through a payment provider."""
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
        at_counter = fee_at_counter and locked.channel == Channel.COUNTER
        if fee and not at_counter and _settled_payment(locked) is None:
            raise PaymentRequired(fee)
        if locked.status == Status.DRAFT or not locked.submission_key:
            locked.submission_key = submission_key
        if write_back is not None:
            locked.profile_write_back = bool(write_back) and locked.applicant_id is not None
        previous = locked.status
        locked.status = machine.check_transition(locked.status, Status.SUBMITTED)
        _receive(locked, cleaned, fee)
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
                "profile_write_back",
                "updated_at",
            ]
        )
        _submitted(locked, previous, cleaned, actor)
    _copy(application, locked)
    return locked


def _receive(application: Application, cleaned: Mapping[str, Any], fee: int | None) -> None:
    """Fill in what a received application has (its answers as checked, 受付番号, fee,
    time of receipt); the caller saves it."""
    application.data = engine.to_stored(application.form_definition.definition, cleaned)
    application.reference_number = _next_reference_number()
    application.fee_yen = fee
    application.submitted_at = timezone.now()
    application.expires_at = None
    application.current_step = ""


def _submitted(
    application: Application, previous: str, cleaned: Mapping[str, Any], actor: User | None, **audit: Any
) -> None:
    """Everything that follows a submission, in its transaction: the audit record, the
    timeline, the write-back, the other apps' records (case, webhooks) and the
    applicant's confirmation."""
    _audit(application, actor, "submit", reference_number=application.reference_number, **audit)
    _record_change(application, previous, actor)
    if application.profile_write_back:
        _write_back(application, cleaned, actor)
    application_submitted.send(sender=Application, application=application)
    _notify(application)


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
        "profile_write_back",
        "updated_at",
    ):
        setattr(stale, name, getattr(fresh, name))


def application_create_and_submit(
    *, applicant: User, procedure_code: str, data: Mapping[str, Any], submission_key: str, lang: str = "ja"
) -> tuple[Application, bool]:
    """The API's one-shot application: check ``data`` against the current form and
    submit it. The same ``submission_key`` returns the earlier application
    (``created`` is False). Raises :class:`NoOnlineForm`, :class:`InvalidApplication`,
    :class:`PaymentRequired`, :class:`IdempotencyConflict`.

    A first submission is not preceded by a lookup of its key: the unique key on the
    insert finds a repeat, and a repeat whose data no longer passes (a new form
    version, say) is looked up before its error is raised."""
    try:
        form = form_get_current(procedure_code)
        if form is None:
            raise NoOnlineForm(procedure_code)
        cleaned, errors = engine.clean_all(form.definition, data, lang)
        if errors:
            raise InvalidApplication(errors)
        fee = fee_for(form.procedure, cleaned)
        if fee:
            raise PaymentRequired(fee)
    except (NoOnlineForm, InvalidApplication, PaymentRequired):
        existing = _earlier(submission_key, applicant, procedure_code)
        if existing is None:
            raise
        return existing, False
    application = Application(
        procedure=form.procedure,
        form_definition=form,
        applicant=applicant,
        submission_key=submission_key,
        status=machine.check_transition(Status.DRAFT, Status.SUBMITTED),
    )
    try:
        with transaction.atomic():
            # Checked above; created as received in one write (no draft first).
            _receive(application, cleaned, None)
            application.save(force_insert=True)
            _submitted(application, Status.DRAFT, cleaned, applicant, via="api")
    except IntegrityError:
        # The key was used before, or at the same moment by another request.
        existing = _earlier(submission_key, applicant, procedure_code)
        if existing is None:
            raise
        return existing, False
    return application, True


def _earlier(submission_key: str, applicant: User, procedure_code: str) -> Application | None:
    """The application already made with ``submission_key``; another resident's key or
    another procedure raises :class:`IdempotencyConflict`."""
    existing = Application.objects.select_related("procedure").filter(submission_key=submission_key).first()
    if existing is not None and (existing.applicant_id != applicant.pk or existing.procedure.code != procedure_code):
        raise IdempotencyConflict(submission_key)
    return existing


# -- fees -------------------------------------------------------------------------------
def application_request_payment(
    *,
    application: Application,
    submission_key: str,
    return_url: str,
    cancel_url: str,
    actor: User | None = None,
    lang: str = "ja",
    write_back: bool = False,
) -> str:
    """Check every answer, move the draft to ``awaiting_payment`` and start a payment
    of its fee; returns the URL of the provider's payment page. The same
    ``submission_key`` (a double click) gives the same payment. ``write_back`` (the
    resident's choice on the check page) is kept for the submit after payment."""
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
            locked.profile_write_back = bool(write_back) and locked.applicant_id is not None
            locked.save(update_fields=["status", "submission_key", "fee_yen", "profile_write_back", "updated_at"])
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


# -- correction (補正) ---------------------------------------------------------------------
#: The statuses from which staff may ask for a correction.
CORRECTABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW})
CORRECTION_MESSAGE_MAX = 500
CORRECTION_NOTE_MAX = 2000
PARTS = {"name": ("family", "given"), "kana": ("family", "given"), "date_range": ("start", "end")}


class InvalidCorrection(ValueError, LookupError):
    """A correction request that cannot be made: no fields, a path the application
    does not have, or a missing message. ``errors`` maps the path (``""`` for the
    request as a whole) → message. (Also a ``LookupError``: an unknown field path.)"""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


def _path_exists(fields: Mapping[str, Mapping[str, Any]], answers: Mapping[str, Any], path: str) -> bool:
    """Whether ``path`` names a field of the form (``phone``), a part of one
    (``name.family``), an answered item of a group (``members.1``) or a field of that
    item (``members.1.birth_date``, ``members.1.name.given``)."""
    parts = path.split(".")
    field = fields.get(parts[0])
    if field is None or field["type"] == "declaration":
        return False
    rest = parts[1:]
    if field["type"] == "group":
        if not rest:
            return True
        items = answers.get(parts[0]) or []
        if not rest[0].isdigit() or int(rest[0]) >= len(items):
            return False
        if len(rest) == 1:
            return True
        sub = next((f for f in field["fields"] if f["key"] == rest[1]), None)
        if sub is None:
            return False
        field, rest = sub, rest[2:]
    if not rest:
        return True
    return len(rest) == 1 and rest[0] in PARTS.get(field["type"], ())


def _condition_keys(condition: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for combinator in ("all", "any"):
        for sub in condition.get(combinator, []):
            keys |= _condition_keys(sub)
    if "not" in condition:
        keys |= _condition_keys(condition["not"])
    if "field" in condition:
        keys.add(str(condition["field"]))
    return keys


def correction_editable_keys(application: Application, correction: Correction) -> list[str]:
    """The top-level fields the resident may change for ``correction``: the marked
    ones, and fields that a rule shows, hides or requires depending on a marked field
    and that are not shown with the current answers (changing a marked answer can make
    them necessary). Every other answer stays as it was."""
    definition = application.form_definition.definition
    marked = correction.field_keys
    fields = _fields(definition)
    steps = {s["key"]: s for s in definition["steps"]}
    visible = evaluate(definition, application_answers(application)).visible_fields
    dependents: list[str] = []
    for rule in definition.get("logic", []):
        if not _condition_keys(rule["when"]) & set(marked):
            continue
        for target in [*rule.get("show", []), *rule.get("hide", []), *rule.get("require", [])]:
            keys = [f["key"] for f in steps[target]["fields"]] if target in steps else [target]
            for key in keys:
                if key in fields and fields[key]["type"] != "declaration" and key not in visible:
                    dependents.append(key)
    order = list(fields)
    editable = set(marked) | set(dependents)
    return [k for k in order if k in editable]


def _correction_notify(application: Application, correction: Correction) -> None:
    language = applicant_language(application)
    fields = _fields(application.form_definition.definition)
    link = reverse("applications:correction", args=[application.public_id])
    with translation.override(language):
        name = procedure_name(application, language)
        lines = []
        for item in correction.items:
            field = fields.get(str(item["path"]).split(".")[0], {})
            label = (field.get("label_en") if language == "en" else None) or field.get("label", item["path"])
            lines.append(f"・{label}: {item['message']}")
        subject = _("【%(ward)s】申請内容の補正をお願いします（受付番号 %(number)s）") % {
            "ward": settings.WARD_NAME,
            "number": application.reference_number,
        }
        where = (
            _("オンライン窓口のマイページで申請を開き、内容を直して再提出してください。")
            if application.applicant is not None
            else _("次のリンクから申請を開き、内容を直して再提出してください（%(days)s日間有効）。\n%(url)s")
            % {"days": _draft_days(), "url": resume_url(application)}
        )
        body = _(
            "%(name)s 様\n\n次の申請について、内容の補正（修正）をお願いします。\n\n手続き: %(procedure)s\n"
            "受付番号: %(number)s\n\n直していただく項目:\n%(items)s\n\n%(note)s\n\n%(where)s\n\n%(ward)s"
        ) % {
            "name": _addressee(application),
            "procedure": name,
            "number": application.reference_number,
            "items": "\n".join(lines),
            "note": correction.note,
            "where": where,
            "ward": settings.WARD_NAME,
        }
        inbox_subject = _("申請内容の補正をお願いします（%(procedure)s）") % {"procedure": name}
    application_notify(
        application=application,
        key=f"application-correction-{correction.pk}",
        subject=subject,
        inbox_subject=inbox_subject,
        body=body,
        link=link,
    )


def application_request_correction(
    *, application: Application, items: Mapping[str, str], note: str, actor: User | None
) -> Correction:
    """Ask the resident to correct the answers at ``items`` (field path → message for
    the resident) with ``note`` shown on top: records the request, moves the
    application to ``correction_requested`` (timeline entry with the note) and queues
    the mail and inbox message with a link to the correction page, in one
    transaction. Only from ``submitted`` or ``in_review`` (else
    :class:`machine.IllegalTransition`); :class:`InvalidCorrection` for no items, an
    unknown path or an empty message. The caller decides who may do it."""
    note = (note or "").strip()
    with transaction.atomic():
        locked = _lock(application)
        if locked.status not in CORRECTABLE:
            raise machine.IllegalTransition(locked.status, Status.CORRECTION_REQUESTED)
        definition = locked.form_definition.definition
        fields = _fields(definition)
        answers = application_answers(locked)
        visible = evaluate(definition, answers).visible_fields
        errors: dict[str, str] = {}
        if not items:
            errors[""] = _("補正を求める項目を1つ以上選んでください。")
        for path, message in items.items():
            text = (message or "").strip()
            if not _path_exists(fields, answers, str(path)) or str(path).split(".")[0] not in visible:
                errors[str(path)] = _("項目「%(path)s」はこの申請にありません。") % {"path": path}
            elif not text:
                errors[str(path)] = _("「%(label)s」について、補正を求める内容を入力してください。") % {
                    "label": fields[str(path).split(".")[0]]["label"]
                }
            elif len(text) > CORRECTION_MESSAGE_MAX:
                errors[str(path)] = _("「%(label)s」へのメッセージは%(n)s文字以内で入力してください。") % {
                    "label": fields[str(path).split(".")[0]]["label"],
                    "n": CORRECTION_MESSAGE_MAX,
                }
        if len(note) > CORRECTION_NOTE_MAX:
            errors["note"] = _("お知らせは%(n)s文字以内で入力してください。") % {"n": CORRECTION_NOTE_MAX}
        if errors:
            raise InvalidCorrection(errors)
        correction = Correction(
            application=locked,
            requested_by=actor,
            items=[{"path": str(p), "message": str(m).strip()} for p, m in items.items()],
            note=note,
        )
        correction.before = {k: locked.data.get(k) for k in correction.field_keys}
        correction.save()
        locked = application_transition(
            application=locked,
            target=Status.CORRECTION_REQUESTED,
            actor=actor,
            note=note,
            correction=correction.pk,
            fields=[i["path"] for i in correction.items],
        )
        _correction_notify(locked, correction)
    _copy(application, locked)
    return correction


def application_resubmit_correction(
    *, application: Application, raw: Mapping[str, Any], actor: User | None, lang: str = "ja"
) -> tuple[Application, dict[str, str]]:
    """The resident's corrected answers: only the fields of the open correction
    request (``correction_editable_keys``) are taken from ``raw``; anything else in it
    is ignored. Every answer is checked again (``engine.clean_all``); with errors
    nothing is saved and they are returned. Otherwise the answers are saved, the
    request records the answers before and after and is resolved, and the application
    goes back to ``in_review``, in one transaction. Raises :class:`NotEditable` when
    no correction is open."""
    with transaction.atomic():
        locked = _lock(application)
        correction = Correction.objects.select_for_update().filter(application=locked, resolved_at__isnull=True).first()
        if locked.status != Status.CORRECTION_REQUESTED or correction is None:
            raise NotEditable(locked.status)
        definition = locked.form_definition.definition
        editable = correction_editable_keys(locked, correction)
        posted = engine.unflatten(raw)
        merged = {**raw_answers(locked), **{k: posted.get(k) for k in editable}}
        cleaned, errors = engine.clean_all(definition, merged, lang)
        if errors:
            return locked, errors
        before = dict(locked.data)
        locked.data = engine.to_stored(definition, cleaned)
        changed = sorted(k for k in set(before) | set(locked.data) if before.get(k) != locked.data.get(k))
        locked.prefill_sources = {k: v for k, v in locked.prefill_sources.items() if k not in changed}
        locked.save(update_fields=["data", "prefill_sources", "updated_at"])
        recorded = [k for k in _fields(definition) if k in set(correction.field_keys) | set(editable) | set(changed)]
        correction.before = {**{k: before.get(k) for k in recorded}, **correction.before}
        correction.after = {k: locked.data.get(k) for k in recorded}
        correction.resolved_at = timezone.now()
        correction.save(update_fields=["before", "after", "resolved_at"])
        locked = application_transition(
            application=locked, target=Status.IN_REVIEW, actor=actor, correction=correction.pk, changed=changed
        )
    _copy(application, locked)
    return locked, {}


# -- withdrawal (取下げ) --------------------------------------------------------------------
#: The statuses from which the resident may withdraw the application.
WITHDRAWABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.CORRECTION_REQUESTED})
WITHDRAW_REASON_MAX = 500


def application_withdraw(*, application: Application, actor: User | None, reason: str = "") -> Application:
    """The resident withdraws the application (取下げ): only while it is submitted, in
    review or waiting for a correction (else :class:`machine.IllegalTransition`). The
    reason, if given, is the timeline entry's note; a confirmation is queued."""
    reason = (reason or "").strip()[:WITHDRAW_REASON_MAX]
    with transaction.atomic():
        locked = _lock(application)
        if locked.status not in WITHDRAWABLE:
            raise machine.IllegalTransition(locked.status, Status.WITHDRAWN)
        locked = application_transition(application=locked, target=Status.WITHDRAWN, actor=actor, note=reason)
        language = applicant_language(locked)
        with translation.override(language):
            name = procedure_name(locked, language)
            subject = _("【%(ward)s】申請を取り下げました（受付番号 %(number)s）") % {
                "ward": settings.WARD_NAME,
                "number": locked.reference_number,
            }
            body = _(
                "%(name)s 様\n\n次の申請の取下げを受け付けました。\n\n手続き: %(procedure)s\n"
                "受付番号: %(number)s\n\n取下げに心当たりがない場合は、受付番号を添えてお問い合わせください。"
                "\n\n%(ward)s"
            ) % {
                "name": _addressee(locked),
                "procedure": name,
                "number": locked.reference_number,
                "ward": settings.WARD_NAME,
            }
            inbox_subject = _("申請を取り下げました（%(procedure)s）") % {"procedure": name}
        application_notify(
            application=locked,
            key=f"application-withdrawn-{locked.public_id}",
            subject=subject,
            inbox_subject=inbox_subject,
            body=body,
            link=reverse("applications:detail", args=[locked.public_id]),
        )
    _copy(application, locked)
    return locked


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
