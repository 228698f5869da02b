"""Saving changed contact details back to the profile, with consent: offered on the
check page only for contact data (電話番号), never for the registry's 基本4情報; done in
the submit transaction only when the resident ticks the box; consent and audit
recorded."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.applications.models import Application
from madoguchi.applications.services import (
    application_paid,
    application_request_payment,
    application_save_step,
    application_start,
)
from madoguchi.core.models import AuditEvent, Resident, User
from madoguchi.payments.models import Payment
from madoguchi.portal.models import Consent
from madoguchi.portal.purposes import PROFILE_WRITE_BACK
from madoguchi.portal.selectors import consent_given

from .conftest import REQUESTER

OFFER = "変更した連絡先をマイページの登録情報にも保存する"


def _filled(client: Client, requester: dict[str, str] | None = None) -> tuple[Application, str]:
    client.post("/applications/start/juminhyo-copy/")
    application = Application.objects.get()
    base = f"/applications/{application.public_id}/"
    for key, data in [
        ("requester", requester or REQUESTER),
        ("target", {"scope": "all"}),
        ("contents_step", {}),
        ("quantity", {"copies": "1", "purpose": "school"}),
        ("delivery_step", {"delivery": "mail"}),
    ]:
        assert client.post(f"{base}step/{key}/", data).status_code == 302
    return application, client.get(f"{base}check/").content.decode()


def _key(html: str) -> str:
    return html.split('name="submission_key" value="', 1)[1].split('"', 1)[0]


def _resident(user: User) -> Resident:
    return Resident.objects.get(pk=user.resident_id)


@pytest.mark.usefixtures("free_juminhyo")
def test_a_changed_phone_is_offered_and_saved_only_when_ticked(hanako: User, hanako_client: Client) -> None:
    assert _resident(hanako).phone == ""
    application, html = _filled(hanako_client)
    assert OFFER in html and "03-1234-5678" in html and "未登録" in html
    answer = hanako_client.post(
        f"/applications/{application.public_id}/submit/",
        {"submission_key": _key(html), "declaration": "on", "save_contact": "on"},
    )
    assert answer.status_code == 302 and answer["Location"].endswith("/done/")
    assert _resident(hanako).phone == "03-1234-5678"
    assert consent_given(hanako, PROFILE_WRITE_BACK)
    assert AuditEvent.objects.filter(action="application.profile_write_back").count() == 1
    assert AuditEvent.objects.filter(action="portal.phone_changed").count() == 1
    application.refresh_from_db()
    assert application.status == "submitted" and application.profile_write_back


@pytest.mark.usefixtures("free_juminhyo")
def test_nothing_is_saved_without_the_tick(hanako: User, hanako_client: Client) -> None:
    application, html = _filled(hanako_client)
    hanako_client.post(
        f"/applications/{application.public_id}/submit/", {"submission_key": _key(html), "declaration": "on"}
    )
    application.refresh_from_db()
    assert application.status == "submitted"
    assert _resident(hanako).phone == ""
    assert not Consent.objects.filter(user=hanako).filter(purpose=PROFILE_WRITE_BACK).exists()
    assert not AuditEvent.objects.filter(action="application.profile_write_back").exists()


@pytest.mark.usefixtures("free_juminhyo")
def test_a_failed_submit_writes_nothing_back(hanako: User, hanako_client: Client) -> None:
    application, html = _filled(hanako_client)
    answer = hanako_client.post(
        f"/applications/{application.public_id}/submit/", {"submission_key": _key(html), "save_contact": "on"}
    )
    assert answer.status_code == 400  # the declaration is missing
    assert 'name="save_contact" value="on" checked' in answer.content.decode()
    assert _resident(hanako).phone == ""
    assert not consent_given(hanako, PROFILE_WRITE_BACK)


@pytest.mark.usefixtures("free_juminhyo")
def test_no_offer_when_the_phone_is_the_registered_one(hanako: User, hanako_client: Client) -> None:
    Resident.objects.filter(pk=hanako.resident_id).update(phone="03-1234-5678")
    _application, html = _filled(hanako_client)
    assert OFFER not in html


@pytest.mark.usefixtures("free_juminhyo")
def test_registry_data_is_never_written_back(hanako: User, hanako_client: Client) -> None:
    changed = {**REQUESTER, "name.family": "佐藤", "address": "東京都デモ区南町9番9号"}
    application, html = _filled(hanako_client, changed)
    hanako_client.post(
        f"/applications/{application.public_id}/submit/",
        {"submission_key": _key(html), "declaration": "on", "save_contact": "on"},
    )
    resident = _resident(hanako)
    assert resident.family_name == "山田" and resident.household.address != "東京都デモ区南町9番9号"
    assert resident.phone == "03-1234-5678"  # the contact detail only


@pytest.mark.usefixtures("free_juminhyo")
def test_an_account_without_a_registry_record_gets_no_offer(hanako: User, hanako_client: Client) -> None:
    User.objects.filter(pk=hanako.pk).update(resident=None)
    application, html = _filled(hanako_client)
    assert OFFER not in html
    hanako_client.post(
        f"/applications/{application.public_id}/submit/",
        {"submission_key": _key(html), "declaration": "on", "save_contact": "on"},
    )
    application.refresh_from_db()
    assert application.status == "submitted"
    assert not consent_given(hanako, PROFILE_WRITE_BACK)


def test_with_a_fee_the_choice_is_kept_until_the_payment_settles(hanako: User) -> None:
    application, _created = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    for key, data in [
        ("requester", REQUESTER),
        ("target", {"scope": "all"}),
        ("contents_step", {}),
        ("quantity", {"copies": "1", "purpose": "school"}),
        ("delivery_step", {"delivery": "mail"}),
        ("confirm", {"declaration": "on"}),
    ]:
        application, errors = application_save_step(application=application, step_key=key, raw=data)
        assert errors == {}, key
    application_request_payment(
        application=application,
        submission_key="write-back-fee-1",
        return_url="http://testserver/r",
        cancel_url="http://testserver/c",
        write_back=True,
    )
    application.refresh_from_db()
    assert application.status == "awaiting_payment" and application.profile_write_back
    assert _resident(hanako).phone == ""
    Payment.objects.filter(object_id=str(application.public_id)).update(status="captured", settled_at=timezone.now())
    application_paid(Payment.objects.get(object_id=str(application.public_id)))
    application.refresh_from_db()
    assert application.status == "submitted"
    assert _resident(hanako).phone == "03-1234-5678" and consent_given(hanako, PROFILE_WRITE_BACK)
