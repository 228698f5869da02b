from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.core.models import User
from madoguchi.notifications.models import InboxMessage

pytestmark = pytest.mark.django_db


def _message(user: User, subject: str, *, minutes_ago: int = 0, read: bool = False, link: str = "") -> InboxMessage:
    message = InboxMessage.objects.create(user=user, subject=subject, body="本文です。\n二行目", link_url=link)
    created = timezone.now() - dt.timedelta(minutes=minutes_ago)
    InboxMessage.objects.filter(pk=message.pk).update(created_at=created, read_at=created if read else None)
    message.refresh_from_db()
    return message


def test_inbox_lists_own_messages_newest_first_with_unread_marked_in_text(
    logged_in: Client, account: User, other_account: User
) -> None:
    _message(account, "古いお知らせ", minutes_ago=60, read=True)
    _message(account, "新しいお知らせ", minutes_ago=1)
    _message(other_account, "他人あてのお知らせ")
    response = logged_in.get("/portal/inbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("新しいお知らせ") < html.index("古いお知らせ")
    assert "他人あてのお知らせ" not in html
    assert html.count(">未読</span>") == 1
    assert "未読のお知らせが1件あります。" in html


def test_opening_a_message_shows_it_and_marks_it_read(logged_in: Client, account: User) -> None:
    message = _message(account, "審査結果のお知らせ", link="/guide/")
    response = logged_in.get(f"/portal/inbox/{message.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "審査結果のお知らせ" in html and "二行目" in html and 'href="/guide/"' in html
    message.refresh_from_db()
    assert message.read_at is not None


def test_message_link_to_another_scheme_is_not_shown(logged_in: Client, account: User) -> None:
    message = _message(account, "リンク", link="javascript:alert(1)")
    html = logged_in.get(f"/portal/inbox/{message.pk}/").content.decode()
    assert "javascript:" not in html


def test_resident_cannot_read_another_residents_message(logged_in: Client, other_account: User) -> None:
    message = _message(other_account, "他人あて")
    assert logged_in.get(f"/portal/inbox/{message.pk}/").status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_unknown_message_is_404(logged_in: Client) -> None:
    assert logged_in.get("/portal/inbox/999999/").status_code == 404


def test_mark_all_read_touches_only_own_messages(logged_in: Client, account: User, other_account: User) -> None:
    mine = [_message(account, f"お知らせ{i}") for i in range(3)]
    theirs = _message(other_account, "他人あて")
    response = logged_in.post("/portal/inbox/read-all/")
    assert response.status_code == 302 and response["Location"] == "/portal/inbox/"
    assert all(InboxMessage.objects.get(pk=m.pk).read_at is not None for m in mine)
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "未読のお知らせはありません。" in logged_in.get("/portal/inbox/").content.decode()


def test_inbox_is_paginated(logged_in: Client, account: User) -> None:
    for i in range(25):
        _message(account, f"件名{i:02d}", minutes_ago=i)
    first = logged_in.get("/portal/inbox/").content.decode()
    second = logged_in.get("/portal/inbox/?page=2").content.decode()
    assert "件名00" in first and "件名19" in first and "件名20" not in first
    assert "件名20" in second and "件名24" in second and "件名00" not in second
    assert "1 / 2 ページ" in first


def test_empty_inbox(logged_in: Client) -> None:
    assert "お知らせはまだありません。" in logged_in.get("/portal/inbox/").content.decode()
