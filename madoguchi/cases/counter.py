"""書かない窓口 (counter-assisted applications): services and reads.

1. Staff find the resident in the registry (kana name, birth date, address); every
   search is audit-logged.
2. ``counter_visit_start`` opens a visit; ``counter_visit_add`` starts a procedure for
   the resident, prefilled from the record (several per visit: 転入 + 国民健康保険 +
   児童手当 …). Staff complete the answers on the same pages residents use.
3. ``counter_visit_present`` shows the visit on the second screen: a tablet at the
   counter opens ``/counter/screen/`` and enters the 6-digit code.
4. The resident checks every answer there and signs (on the screen with a finger or
   pen, or by typing their name); ``counter_visit_confirm`` submits every application
   of the visit at once, recorded as channel 窓口, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application
from madoguchi.cases.models import CounterVisit
from madoguchi.cases.selectors import staff_department_ids
from madoguchi.cases.services import CaseError, NotAllowed
from madoguchi.core.audit import audit_record
from madoguchi.core.japanese import normalize, to_katakana
from madoguchi.core.models import Resident, StaffRole, User

PAIRING_MINUTES = 30
MAX_RESULTS = 20
#: A drawn signature: SVG path data of straight strokes (M x y L x y …), nothing else.
SIGNATURE = re.compile(r"^(?:[ML] ?\d{1,4}(?:\.\d{1,2})? \d{1,4}(?:\.\d{1,2})? ?)+$")
MAX_SIGNATURE = 30000


# -- finding the resident ---------------------------------------------------------------
def resident_search(
    *, staff: User, kana: str = "", birth_date: dt.date | None = None, address: str = ""
) -> list[Resident]:
    """Residents matching every given criterion (at most 20). Needs at least one
    criterion; each search is written to the audit log (what was searched, how many
    were found — not the names)."""
    parts = [normalize(part) for part in to_katakana(kana).split()]
    kana = "".join(parts)
    address = normalize(address).replace(" ", "")
    if not (kana or birth_date or address):
        raise CaseError(_("フリガナ、生年月日、住所のいずれかを入力してください。"))
    residents: QuerySet[Resident] = Resident.objects.select_related("household")
    if kana:
        for part in parts:
            residents = residents.filter(Q(family_name_kana__contains=part) | Q(given_name_kana__contains=part))
    if birth_date:
        residents = residents.filter(birth_date=birth_date)
    found = []
    for resident in residents.order_by("family_name_kana", "given_name_kana", "pk")[:500]:
        if kana and kana not in (resident.family_name_kana + resident.given_name_kana).replace(" ", ""):
            continue
        if address and address not in normalize(resident.household.address).replace(" ", ""):
            continue
        found.append(resident)
        if len(found) >= MAX_RESULTS:
            break
    audit_record(
        actor=staff,
        action="counter.resident_search",
        data={"kana": bool(kana), "birth_date": bool(birth_date), "address": bool(address), "found": len(found)},
    )
    return found


def _staff_department(staff: User) -> int:
    role = StaffRole.objects.filter(user=staff).order_by("pk").first()
    if role is None:
        raise NotAllowed(_("部署に所属する職員だけが書かない窓口を使えます。"))
    return role.department_id


# -- the visit --------------------------------------------------------------------------
def counter_visit_get_for_staff(*, staff: User, public_id: Any) -> CounterVisit:
    from django.http import Http404

    departments = staff_department_ids(staff)
    visits = CounterVisit.objects.select_related("resident__household", "staff")
    if departments is not None:
        visits = visits.filter(department_id__in=departments)
    try:
        return visits.get(public_id=public_id)
    except (CounterVisit.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def counter_visit_start(*, staff: User, resident: Resident) -> CounterVisit:
    with transaction.atomic():
        visit = CounterVisit.objects.create(resident=resident, staff=staff, department_id=_staff_department(staff))
        audit_record(actor=staff, action="counter.visit_start", target=visit, data={"resident": resident.pk})
    return visit


def _require_preparing(visit: CounterVisit) -> None:
    if visit.status not in (CounterVisit.Status.PREPARING, CounterVisit.Status.AWAITING):
        raise CaseError(_("この来庁の手続きは確定済みか、取りやめになっています。"))


def counter_visit_add(*, visit: CounterVisit, staff: User, procedure_code: str) -> Application:
    """Start ``procedure_code`` for the visit's resident, prefilled from the record."""
    from madoguchi.applications.counter import application_start_at_counter
    from madoguchi.applications.services import NoOnlineForm

    _require_preparing(visit)
    if visit.applications.filter(procedure__code=procedure_code).exists():
        raise CaseError(_("この手続きはすでに追加されています。"))
    with transaction.atomic():
        try:
            application = application_start_at_counter(
                resident=visit.resident, staff=staff, procedure_code=procedure_code
            )
        except NoOnlineForm as exc:
            raise CaseError(_("この手続きには申請フォームがありません。")) from exc
        visit.applications.add(application)
        if visit.status == CounterVisit.Status.AWAITING:
            visit.status = CounterVisit.Status.PREPARING
            visit.save(update_fields=["status"])
        audit_record(actor=staff, action="counter.visit_add", target=visit, data={"procedure": procedure_code})
    return application


def counter_visit_present(*, visit: CounterVisit, staff: User) -> CounterVisit:
    """Show the visit on the second screen: a new 6-digit code, valid 30 minutes."""
    _require_preparing(visit)
    if not visit.applications.exists():
        raise CaseError(_("先に手続きを追加してください。"))
    with transaction.atomic():
        code = f"{secrets.randbelow(1_000_000):06d}"
        while CounterVisit.objects.filter(
            pairing_code=code, status=CounterVisit.Status.AWAITING, pairing_expires_at__gt=timezone.now()
        ).exists():
            code = f"{secrets.randbelow(1_000_000):06d}"
        visit.pairing_code = code
        visit.pairing_expires_at = timezone.now() + dt.timedelta(minutes=PAIRING_MINUTES)
        visit.status = CounterVisit.Status.AWAITING
        visit.save(update_fields=["pairing_code", "pairing_expires_at", "status"])
        audit_record(actor=staff, action="counter.visit_present", target=visit)
    return visit


def counter_visit_pair(*, code: str) -> CounterVisit | None:
    """The visit shown under ``code`` on the second screen, if the code is current."""
    code = normalize(code).replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    return (
        CounterVisit.objects.select_related("resident")
        .filter(pairing_code=code, status=CounterVisit.Status.AWAITING, pairing_expires_at__gt=timezone.now())
        .first()
    )


class ConfirmationError(CaseError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def counter_visit_confirm(*, visit: CounterVisit, agreed: bool, signature: str, signed_name: str) -> CounterVisit:
    """The resident confirmed on the second screen: check the signature, fill in the
    declarations, submit every application of the visit (channel 窓口) — all or none."""
    from madoguchi.applications.counter import application_counter_submit
    from madoguchi.applications.services import InvalidApplication

    errors: dict[str, str] = {}
    signature = signature.strip()
    signed_name = signed_name.strip()[:100]
    if not agreed:
        errors["agreed"] = _("内容を確認したら、チェックを入れてください。")
    if signature and (len(signature) > MAX_SIGNATURE or not SIGNATURE.fullmatch(signature)):
        errors["signature"] = _("署名を読み取れませんでした。もう一度書いてください。")
    if not signature and not signed_name:
        errors["signed_name"] = _("画面に署名するか、お名前を入力してください。")
    if errors:
        raise ConfirmationError(errors)
    with transaction.atomic():
        locked = CounterVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != CounterVisit.Status.AWAITING:
            raise CaseError(_("この確認画面は使えなくなりました。窓口の職員にお声がけください。"))
        submitted = []
        for application in locked.applications.select_related("procedure", "form_definition").order_by("pk"):
            if application.status != Status.DRAFT:
                continue
            try:
                application_counter_submit(
                    application=application,
                    actor=locked.staff,
                    submission_key=f"counter-{locked.public_id}-{application.pk}",
                )
            except InvalidApplication as exc:
                raise CaseError(
                    _("「%(procedure)s」の入力が終わっていません。窓口の職員にお声がけください。")
                    % {"procedure": application.procedure.name}
                ) from exc
            submitted.append(application.pk)
        locked.status = CounterVisit.Status.CONFIRMED
        locked.signature = signature
        locked.signed_name = signed_name
        locked.confirmed_at = timezone.now()
        locked.pairing_code = ""
        locked.save(update_fields=["status", "signature", "signed_name", "confirmed_at", "pairing_code"])
        audit_record(
            actor=None,
            action="counter.visit_confirm",
            target=locked,
            data={"applications": submitted, "drawn_signature": bool(signature)},
        )
    return locked


def counter_visit_cancel(*, visit: CounterVisit, staff: User) -> None:
    from madoguchi.applications.counter import application_withdraw_draft

    _require_preparing(visit)
    with transaction.atomic():
        for application in visit.applications.filter(status=Status.DRAFT):
            application_withdraw_draft(application=application, actor=staff)
        visit.status = CounterVisit.Status.CANCELLED
        visit.pairing_code = ""
        visit.save(update_fields=["status", "pairing_code"])
        audit_record(actor=staff, action="counter.visit_cancel", target=visit)
