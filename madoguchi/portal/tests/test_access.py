from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.core.models import User

pytestmark = pytest.mark.django_db

PAGES = ["/portal/", "/portal/inbox/", "/portal/profile/", "/portal/consents/"]
POSTS = ["/portal/inbox/read-all/", "/portal/consents/grant/", "/portal/consents/withdraw/", "/portal/profile/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitor_is_sent_to_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_staff_account_cannot_open_the_portal(client: Client, staff: User, url: str) -> None:
    client.force_login(staff)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", POSTS)
def test_staff_account_cannot_post_to_the_portal(client: Client, staff: User, url: str) -> None:
    client.force_login(staff)
    assert client.post(url, {"purpose": "notify_email", "preferred_language": "ja"}).status_code == 403


def test_admin_superuser_is_treated_as_staff(client: Client, db: None) -> None:
    admin = User.objects.create_superuser(username="root", email="root@example.jp", password="x-Very-Long-9")
    client.force_login(admin)
    assert client.get("/portal/").status_code == 403


@pytest.mark.parametrize("url", ["/portal/inbox/read-all/", "/portal/consents/grant/", "/portal/consents/withdraw/"])
def test_writes_need_post(logged_in: Client, url: str) -> None:
    assert logged_in.get(url).status_code == 405


def test_header_mypage_link_points_to_the_portal(logged_in: Client) -> None:
    html = logged_in.get("/guide/").content.decode()
    assert 'href="/portal/"' in html and "マイページ" in html


def test_header_has_no_mypage_link_for_staff(client: Client, staff: User) -> None:
    client.force_login(staff)
    html = client.get("/guide/").content.decode()
    assert 'href="/portal/"' not in html
