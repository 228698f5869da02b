from __future__ import annotations

from dataclasses import replace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from madoguchi.core.models import AuditEvent, User
from madoguchi.portal import purposes
from madoguchi.portal.models import Consent
from madoguchi.portal.selectors import consent_given
from madoguchi.portal.services import consent_grant, consent_withdraw

pytestmark = pytest.mark.django_db


def test_consents_page_lists_every_purpose_as_not_given(logged_in: Client) -> None:
    response = logged_in.get("/portal/consents/")
    assert response.status_code == 200
    html = response.content.decode()
    for label in ["住民記録からの自動入力", "申請で変更した連絡先をプロフィールに反映", "メールでのお知らせ"]:
        assert label in html
    assert html.count("同意していません") == 3


def test_grant_and_withdraw_through_the_page_are_audited(logged_in: Client, account: User) -> None:
    response = logged_in.post("/portal/consents/grant/", {"purpose": "prefill_registry"})
    assert response.status_code == 302 and response["Location"] == "/portal/consents/"
    assert consent_given(account, "prefill_registry")
    assert not consent_given(account, "notify_email")
    html = logged_in.get("/portal/consents/").content.decode()
    assert "「住民記録からの自動入力」に同意しました。" in html and "同意しています" in html

    response = logged_in.post("/portal/consents/withdraw/", {"purpose": "prefill_registry"})
    assert response.status_code == 302
    assert not consent_given(account, "prefill_registry")
    actions = list(AuditEvent.objects.filter(action__startswith="portal.").values_list("action", "actor_id", "data"))
    assert actions == [
        ("portal.consent_granted", account.pk, {"purpose": "prefill_registry", "version": "1"}),
        ("portal.consent_withdrawn", account.pk, {"purpose": "prefill_registry", "version": "1"}),
    ]
    consent = Consent.objects.get()
    assert consent.withdrawn_at is not None and consent.text_version == "1"


def test_granting_twice_keeps_one_consent_and_one_audit_record(account: User) -> None:
    first = consent_grant(user=account, purpose="notify_email")
    second = consent_grant(user=account, purpose="notify_email")
    assert first.pk == second.pk
    assert AuditEvent.objects.filter(action="portal.consent_granted").count() == 1


def test_regranting_after_withdrawal_keeps_the_history(logged_in: Client, account: User) -> None:
    consent_grant(user=account, purpose="notify_email")
    consent_withdraw(user=account, purpose="notify_email")
    consent_grant(user=account, purpose="notify_email")
    assert Consent.objects.filter(user=account).count() == 2
    assert consent_given(account, "notify_email")
    html = logged_in.get("/portal/consents/").content.decode()
    assert "これまでの同意" in html


def test_withdrawing_without_consent_does_nothing(account: User) -> None:
    assert consent_withdraw(user=account, purpose="notify_email") is None
    assert not AuditEvent.objects.exists()


def test_unknown_purpose_is_404_and_rejected_by_services(logged_in: Client, account: User) -> None:
    assert logged_in.post("/portal/consents/grant/", {"purpose": "sell_data"}).status_code == 404
    assert logged_in.post("/portal/consents/withdraw/", {}).status_code == 404
    with pytest.raises(ValueError):
        consent_grant(user=account, purpose="sell_data")
    assert not Consent.objects.exists()
    assert not consent_given(account, "sell_data")


def test_consent_is_per_account(account: User, other_account: User) -> None:
    consent_grant(user=other_account, purpose="prefill_registry")
    assert not consent_given(account, "prefill_registry")
    assert consent_given(other_account, "prefill_registry")


def test_consent_given_is_false_for_anonymous_users() -> None:
    assert consent_given(AnonymousUser(), "prefill_registry") is False
    assert consent_given(None, "prefill_registry") is False


def test_revised_text_needs_a_new_consent(logged_in: Client, account: User, monkeypatch: pytest.MonkeyPatch) -> None:
    consent_grant(user=account, purpose="prefill_registry")
    revised = replace(purposes.PURPOSES["prefill_registry"], version="2")
    monkeypatch.setitem(purposes.PURPOSES, "prefill_registry", revised)
    assert not consent_given(account, "prefill_registry")
    html = logged_in.get("/portal/consents/").content.decode()
    assert "改めて同意が必要です" in html
    renewed = consent_grant(user=account, purpose="prefill_registry")
    assert renewed.text_version == "2"
    assert consent_given(account, "prefill_registry")
    assert Consent.objects.filter(user=account, withdrawn_at__isnull=False, text_version="1").count() == 1
    assert AuditEvent.objects.filter(action="portal.consent_superseded").count() == 1
