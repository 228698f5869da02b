from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from madoguchi.catalog.models import LifeEvent
from madoguchi.core.models import User
from madoguchi.guide.models import SavedChecklist
from madoguchi.notifications.models import InboxMessage
from madoguchi.portal import hooks
from madoguchi.portal.services import consent_grant

pytestmark = pytest.mark.django_db


def test_home_greets_the_resident_by_registry_name_and_links_every_section(logged_in: Client) -> None:
    response = logged_in.get("/portal/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "桜井 花子 さん" in html
    for href in ["/portal/inbox/", "/portal/profile/", "/portal/consents/", "/guide/"]:
        assert f'href="{href}' in html
    assert "申請はまだありません" in html
    assert "未読のお知らせはありません。" in html
    assert "3項目のうち0項目に同意しています。" in html


def test_home_counts_unread_messages_and_consents(logged_in: Client, account: User, other_account: User) -> None:
    InboxMessage.objects.create(user=account, subject="受付", body="b")
    InboxMessage.objects.create(user=account, subject="結果", body="b")
    InboxMessage.objects.create(user=other_account, subject="他人", body="b")
    consent_grant(user=account, purpose="notify_email")
    html = logged_in.get("/portal/").content.decode()
    assert "未読のお知らせが2件あります。" in html
    assert "3項目のうち1項目に同意しています。" in html


def test_home_lists_only_own_saved_checklists(
    logged_in: Client, account: User, other_account: User, catalog: None
) -> None:
    event = LifeEvent.objects.get(code="moving-in")
    mine = SavedChecklist.objects.create(owner=account, event=event, answers={})
    theirs = SavedChecklist.objects.create(owner=other_account, event=event, answers={})
    html = logged_in.get("/portal/").content.decode()
    assert f"/guide/saved/{mine.pk}/" in html
    assert f"/guide/saved/{theirs.pk}/" not in html
    assert "（1件）" in html


def test_home_without_registry_record_uses_display_name_and_says_how_to_link(client: Client, db: Any) -> None:
    from madoguchi.accounts.tests.factories import UserFactory

    client.force_login(UserFactory(display_name="ゲスト", resident=None))
    html = client.get("/portal/").content.decode()
    assert "ゲスト さん" in html
    assert "住民記録と連携していません" in html


@pytest.fixture
def applications_provider() -> Iterator[list[User]]:
    seen: list[User] = []

    def provider(user: User) -> list[SimpleNamespace]:
        seen.append(user)
        application = SimpleNamespace(
            status="submitted",
            public_id=uuid.uuid4(),
            procedure=SimpleNamespace(code="tennyu", name="転入届", name_en="Moving-in notification"),
            reference_number="2026-000017",
            get_status_display="受付済み",
        )
        return [application]

    previous = hooks.set_applications_provider(provider)
    yield seen
    hooks.set_applications_provider(previous)


def test_applications_hook_fills_the_applications_section(
    logged_in: Client, account: User, applications_provider: list[User]
) -> None:
    html = logged_in.get("/portal/").content.decode()
    assert "転入届" in html and "2026-000017" in html
    assert "申請はまだありません" not in html
    assert applications_provider == [account]
