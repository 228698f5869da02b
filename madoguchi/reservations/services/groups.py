"""団体登録: a resident registers a group as its representative; staff approve it and
it gets a registration number (its card). The representative's identity is taken
from the account's resident record when it has one, so the same real person is
recognised whichever group they apply through."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.reservations import errors, rules
from madoguchi.reservations.models import Group, GroupMember
from madoguchi.reservations.notify import notify_user

MAX_MEMBERS = 200


def _representative(user: User, *, name: str, birth_date: dt.date | None, address: str) -> tuple[str, dt.date, str]:
    resident = user.resident
    if resident is not None:
        return resident.full_name, resident.birth_date, resident.household.address
    if not name.strip():
        raise errors.Refused(_("代表者の氏名を入力してください。"), field="rep_name")
    if birth_date is None:
        raise errors.Refused(_("代表者の生年月日を 1980-04-01 のように入力してください。"), field="rep_birth_date")
    if not address.strip():
        raise errors.Refused(_("代表者の住所を入力してください。"), field="rep_address")
    return name.strip(), birth_date, address.strip()


def group_register(
    *,
    user: User,
    name: str,
    name_kana: str,
    activity: str,
    member_count: int,
    rep_phone: str = "",
    rep_name: str = "",
    rep_birth_date: dt.date | None = None,
    rep_address: str = "",
) -> Group:
    """Register a group with ``user`` as its representative (審査中 until staff
    approve it). The representative is also its first member."""
    if not name.strip():
        raise errors.Refused(_("団体名を入力してください。"), field="name")
    if not name_kana.strip():
        raise errors.Refused(_("団体名のフリガナを入力してください。"), field="name_kana")
    if not activity.strip():
        raise errors.Refused(_("活動内容を入力してください。"), field="activity")
    if not 1 <= member_count <= MAX_MEMBERS:
        raise errors.Refused(
            _("会員数を1〜%(max)s人の数字で入力してください。") % {"max": MAX_MEMBERS}, field="member_count"
        )
    person_name, birth, address = _representative(user, name=rep_name, birth_date=rep_birth_date, address=rep_address)
    with transaction.atomic():
        group = Group.objects.create(
            name=name.strip()[:100],
            name_kana=name_kana.strip()[:200],
            activity=activity.strip()[:200],
            member_count=member_count,
            representative=user,
            rep_name=person_name[:100],
            rep_birth_date=birth,
            rep_address=address[:300],
            rep_phone=rep_phone.strip()[:32],
            rep_resident=user.resident,
            person_key=rules.person_key(name=person_name, birth_date=birth, address=address),
        )
        GroupMember.objects.create(group=group, name=person_name[:100], in_ward=True)
        audit_record(
            actor=user,
            action="reservations.group.register",
            target=group,
            data={"public_id": str(group.public_id), "name": group.name},
        )
    return group


def group_add_member(*, group: Group, user: User, name: str, name_kana: str, in_ward: bool) -> GroupMember:
    if group.representative_id != user.pk:
        raise errors.NotEligible(_("会員を登録できるのは団体の代表者だけです。"))
    if not name.strip():
        raise errors.Refused(_("会員の氏名を入力してください。"), field="name")
    with transaction.atomic():
        if group.members.count() >= MAX_MEMBERS:
            raise errors.Refused(_("会員は%(max)s人まで登録できます。") % {"max": MAX_MEMBERS}, field="name")
        member = GroupMember.objects.create(
            group=group, name=name.strip()[:100], name_kana=name_kana.strip()[:200], in_ward=in_ward
        )
        audit_record(actor=user, action="reservations.group.add_member", target=group, data={"member": member.pk})
    return member


def _next_card_number() -> str:
    year = timezone.localdate().year
    prefix = f"G{year}-"
    last = (
        Group.objects.filter(card_number__startswith=prefix)
        .order_by("-card_number")
        .values_list("card_number", flat=True)
        .first()
    )
    number = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def group_review(*, group: Group, staff: User, approve: bool, note: str = "") -> Group:
    """Staff approve (with a registration number) or refuse a pending group."""
    with transaction.atomic():
        locked = Group.objects.select_for_update().get(pk=group.pk)
        if locked.status != Group.Status.PENDING:
            raise errors.InvalidState(_("この団体はすでに審査済みです。"))
        if not approve and not note.strip():
            raise errors.Refused(_("登録できない理由を入力してください。"), field="note")
        locked.status = Group.Status.APPROVED if approve else Group.Status.REJECTED
        locked.reviewed_by = staff
        locked.reviewed_at = timezone.now()
        locked.review_note = note.strip()[:300]
        fields = ["status", "reviewed_by", "reviewed_at", "review_note"]
        if approve:
            locked.card_number = _next_card_number()
            fields.append("card_number")
        locked.save(update_fields=fields)
        audit_record(
            actor=staff,
            action="reservations.group.approve" if approve else "reservations.group.reject",
            target=locked,
            data={"card_number": locked.card_number or "", "note": locked.review_note},
        )
        if approve:
            subject = _("【団体登録】団体登録が完了しました")
            body = _("「%(name)s」の団体登録が完了しました。団体登録番号: %(number)s") % {
                "name": locked.name,
                "number": locked.card_number,
            }
        else:
            subject = _("【団体登録】団体登録ができませんでした")
            body = _("「%(name)s」は登録できませんでした。理由: %(note)s") % {
                "name": locked.name,
                "note": locked.review_note,
            }
        notify_user(
            user=locked.representative,
            key=f"group:{locked.public_id}:review",
            subject=subject,
            body=body,
            link=reverse("reservations:group_detail", args=[locked.public_id]),
        )
    return locked
