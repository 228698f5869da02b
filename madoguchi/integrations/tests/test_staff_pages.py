"""Staff pages: API keys and webhooks for 課長 of the department, and each denial."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client

from madoguchi.core.models import AuditEvent, Department, User
from madoguchi.integrations.models import ApiKey, WebhookDelivery, WebhookSubscription
from madoguchi.integrations.selectors import api_key_authenticate
from madoguchi.integrations.services import webhook_create, webhook_deliver_due

from .conftest import Receiver, login, staff, submit

KEYS = "/staff/integrations/keys/"
HOOKS = "/staff/integrations/webhooks/"


def department_id(code: str) -> int:
    return Department.objects.get(code=code).pk


def create_key(client: Client, **extra: Any) -> Any:
    data = {"name": "住民記録システム", "departments": [department_id("kosodate")], **extra}
    return client.post(KEYS, data)


def test_the_home_page_shows_what_the_user_may_do(client: Client, ward: None) -> None:
    page = login(client, "kosodate-kacho").get("/staff/integrations/").content.decode()
    assert KEYS in page and HOOKS in page and "/staff/integrations/export/" in page
    client.logout()
    page = login(client, "kosodate-tanto").get("/staff/integrations/").content.decode()
    assert KEYS not in page and "/staff/integrations/export/" in page


def test_a_kacho_creates_a_key_and_sees_it_once(client: Client, ward: None) -> None:
    login(client, "kosodate-kacho")
    response = create_key(client)
    assert response.status_code == 302
    created = client.get(response["Location"])
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    page = created.content.decode()
    key = ApiKey.objects.get()
    start = page.index(f"mdg_{key.prefix}_")
    raw = page[start : page.index('"', start)]
    assert api_key_authenticate(raw) == key
    assert list(key.departments.values_list("code", flat=True)) == ["kosodate"]
    again = client.get(response["Location"])
    assert again.status_code == 302 and raw not in client.get(KEYS).content.decode()
    assert AuditEvent.objects.filter(action="integrations.api_key_create", actor=staff("kosodate-kacho")).exists()


def test_bad_key_input_is_shown_at_the_fields_and_nothing_is_saved(client: Client, ward: None) -> None:
    login(client, "kosodate-kacho")
    response = client.post(KEYS, {"name": "", "departments": []})
    assert response.status_code == 400
    page = response.content.decode()
    assert "名前を入力してください。" in page and 'href="#id_name"' in page
    assert "部署を1つ以上選んでください。" in page and 'href="#id_departments_0"' in page
    assert ApiKey.objects.count() == 0


def test_a_key_for_a_department_the_user_does_not_manage_is_refused(client: Client, ward: None) -> None:
    login(client, "kosodate-kacho")
    response = create_key(client, departments=[department_id("kumin")])
    assert response.status_code == 400
    assert ApiKey.objects.count() == 0


def test_mynumber_access_needs_the_permission(client: Client, ward: None) -> None:
    login(client, "kosodate-kacho")
    response = create_key(client, can_view_mynumber="on")
    assert response.status_code == 400
    assert "マイナンバーを表示する権限がないため" in response.content.decode()
    assert ApiKey.objects.count() == 0
    user = staff("kosodate-kacho")
    user.user_permissions.add(Permission.objects.get(codename="view_mynumber"))
    client.force_login(User.objects.get(pk=user.pk))
    assert create_key(client, can_view_mynumber="on").status_code == 302
    assert ApiKey.objects.get().can_view_mynumber


def test_tanto_and_kakaricho_cannot_manage_keys_or_webhooks(client: Client, ward: None) -> None:
    for code in ("kosodate-tanto", "kosodate-kakaricho"):
        client.force_login(staff(code))
        assert client.get(KEYS).status_code == 403
        assert create_key(client).status_code == 403
        assert client.get(HOOKS).status_code == 403
    assert ApiKey.objects.count() == 0


def test_a_resident_cannot_open_the_pages(client: Client, hanako: User) -> None:
    client.force_login(hanako)
    for url in ("/staff/integrations/", KEYS, HOOKS):
        assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_the_staff_login(client: Client, ward: None) -> None:
    response = client.get(KEYS)
    assert response.status_code == 302 and "login" in response["Location"]


def test_revoke_works_and_another_departments_kacho_gets_404(client: Client, ward: None) -> None:
    login(client, "kosodate-kacho")
    response = create_key(client)
    page = client.get(response["Location"]).content.decode()
    key = ApiKey.objects.get()
    raw = page[page.index(f"mdg_{key.prefix}_") :].split('"')[0]
    client.logout()
    login(client, "kumin-kacho")
    assert client.post(f"{KEYS}{key.pk}/revoke/").status_code == 404
    assert key.prefix not in client.get(KEYS).content.decode()
    client.logout()
    login(client, "kosodate-kacho")
    assert client.post(f"{KEYS}{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and api_key_authenticate(raw) is None
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_a_kacho_registers_a_webhook_and_sees_the_secret_once(client: Client, ward: None, receiver: Receiver) -> None:
    login(client, "kosodate-kacho")
    response = client.post(
        HOOKS,
        {
            "name": "福祉システム",
            "target_url": receiver.url,
            "departments": [department_id("kosodate")],
            "event_types": ["application.submitted"],
        },
    )
    assert response.status_code == 302
    created = client.get(response["Location"])
    assert created.status_code == 200 and "whsec_" in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == ["application.submitted"]
    again = client.get(response["Location"])
    assert again.status_code == 302 and again["Location"].endswith(f"{subscription.public_id}/")
    assert "whsec_" not in client.get(again["Location"]).content.decode()


def test_a_webhook_url_must_be_http(client: Client, ward: None) -> None:
    login(client, "kosodate-kacho")
    response = client.post(
        HOOKS,
        {
            "name": "x",
            "target_url": "ftp://example.jp/x",
            "departments": [department_id("kosodate")],
            "event_types": ["application.submitted"],
        },
    )
    assert response.status_code == 400
    assert 'href="#id_target_url"' in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_the_delivery_log_shows_status_attempts_and_error_and_resends(
    client: Client, hanako: User, receiver: Receiver
) -> None:
    receiver.statuses = [500, 200]
    subscription, _secret = webhook_create(
        actor=staff("kosodate-kacho"),
        name="福祉システム",
        target_url=receiver.url,
        departments=[Department.objects.get(code="kosodate")],
        event_types=["application.submitted"],
    )
    application = submit(hanako)
    webhook_deliver_due()
    WebhookDelivery.objects.update(status="failed")
    login(client, "kosodate-kacho")
    page = client.get(f"{HOOKS}{subscription.public_id}/").content.decode()
    delivery = WebhookDelivery.objects.get()
    assert application.reference_number in page
    assert "失敗" in page and "HTTP 500" in page and "再送する" in page
    response = client.post(f"/staff/integrations/deliveries/{delivery.public_id}/resend/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0
    webhook_deliver_due()
    page = client.get(f"{HOOKS}{subscription.public_id}/").content.decode()
    assert "送信済み" in page
    client.logout()
    login(client, "kumin-kacho")
    assert client.get(f"{HOOKS}{subscription.public_id}/").status_code == 404
    assert client.post(f"/staff/integrations/deliveries/{delivery.public_id}/resend/").status_code == 404
    assert client.post(f"{HOOKS}{subscription.public_id}/disable/").status_code == 404
    subscription.refresh_from_db()
    assert subscription.is_active


def test_a_kacho_disables_a_webhook(client: Client, ward: None, receiver: Receiver) -> None:
    subscription, _ = webhook_create(
        actor=staff("kosodate-kacho"),
        name="x",
        target_url=receiver.url,
        departments=[Department.objects.get(code="kosodate")],
        event_types=["application.submitted"],
    )
    login(client, "kosodate-kacho")
    assert client.post(f"{HOOKS}{subscription.public_id}/disable/").status_code == 302
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert AuditEvent.objects.filter(action="integrations.webhook_disable").exists()


def test_a_webhook_spanning_a_department_the_user_does_not_manage_is_hidden(
    client: Client, ward: None, receiver: Receiver
) -> None:
    subscription, _ = webhook_create(
        actor=staff("kosodate-kacho"),
        name="x",
        target_url=receiver.url,
        departments=list(Department.objects.filter(code__in=["kosodate", "kumin"])),
        event_types=["application.submitted"],
    )
    login(client, "kosodate-kacho")
    assert client.get(f"{HOOKS}{subscription.public_id}/").status_code == 404
    client.force_login(User.objects.get(email="admin@demo-ku.example.jp"))
    assert client.get(f"{HOOKS}{subscription.public_id}/").status_code == 200
