"""CSV and Excel export of a department's received applications."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from madoguchi.applications.models import Application
from madoguchi.core.models import AuditEvent, User

from .conftest import JIDOTEATE, MYNUMBER, login, staff, submit

URL = "/staff/integrations/export/"


def grant_mynumber(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="view_mynumber", content_type__app_label="applications"))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per object


def post(client: Client, procedure: str = "jidoteate", fmt: str = "csv", **extra: Any) -> Any:
    today = timezone.localdate()
    data = {"procedure": procedure, "date_from": today.isoformat(), "date_to": today.isoformat(), "fmt": fmt}
    data.update(extra)
    return client.post(URL, data)


def read_csv(response: Any) -> list[list[str]]:
    content = response.content
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def two(hanako: User) -> list[Application]:
    return [submit(hanako), submit(hanako, data={**JIDOTEATE, "bank": '=HYPERLINK("http://evil")'})]


def test_csv_has_one_row_per_application_and_no_mynumber_without_permission(
    client: Client, two: list[Application]
) -> None:
    response = post(login(client, "kosodate-tanto"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    header = rows[0]
    assert header[:4] == ["受付番号", "受付日時", "状態", "受付方法"]
    assert "氏名" in header and "フリガナ" in header
    assert "養育している子 1: 氏名" in header and "養育している子 2: 生年月日" in header
    assert not any("マイナンバー" in h for h in header)
    assert len(rows) == 3
    assert [r[0] for r in rows[1:]] == [a.reference_number for a in two]
    assert rows[1][2] == "受付済み" and rows[1][3] == "オンライン"
    assert MYNUMBER not in response.content.decode("utf-8-sig")
    assert MYNUMBER[-4:] not in "".join(rows[1][4:])
    first = dict(zip(header, rows[1], strict=True))
    assert first["氏名"] == "山田\u3000花子"
    assert first["生年月日"] == "1988-04-12"
    assert first["養育している子 2: 氏名"] == "山田\u3000次郎"


def test_formulas_in_answers_are_neutralised(client: Client, two: list[Application]) -> None:
    rows = read_csv(post(login(client, "kosodate-tanto")))
    header = rows[0]
    bank = dict(zip(header, rows[2], strict=True))["金融機関名"]
    assert bank.startswith("'=")


def test_mynumber_is_exported_with_the_permission(client: Client, two: list[Application]) -> None:
    user = grant_mynumber(staff("kosodate-tanto"))
    client.force_login(user)
    rows = read_csv(post(client))
    header = rows[0]
    assert "請求者のマイナンバー（個人番号）" in header
    assert dict(zip(header, rows[1], strict=True))["請求者のマイナンバー（個人番号）"] == MYNUMBER
    event = AuditEvent.objects.filter(action="integrations.export").latest("id")
    assert event.data["mynumber_included"] is True


def test_each_export_is_audited(client: Client, two: list[Application]) -> None:
    user = staff("kosodate-tanto")
    post(login(client, "kosodate-tanto"), fmt="xlsx")
    event = AuditEvent.objects.get(action="integrations.export")
    assert event.actor_id == user.pk
    assert event.data["procedure"] == "jidoteate" and event.data["format"] == "xlsx"
    assert event.data["rows"] == 2 and event.data["mynumber_included"] is False


def test_excel_file_has_the_same_columns(client: Client, two: list[Application]) -> None:
    response = post(login(client, "kosodate-tanto"), fmt="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["受付番号", "受付日時", "状態", "受付方法"]
    assert not any("マイナンバー" in str(h) for h in rows[0])
    assert len(rows) == 3 and rows[1][0] == two[0].reference_number
    bank = rows[2][rows[0].index("金融機関名")]
    assert bank.startswith("'=")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_excel_with_permission_has_the_mynumber(client: Client, two: list[Application]) -> None:
    client.force_login(grant_mynumber(staff("kosodate-kakaricho")))
    sheet = load_workbook(io.BytesIO(post(client, fmt="xlsx").content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1][rows[0].index("請求者のマイナンバー（個人番号）")] == MYNUMBER


def test_only_applications_in_the_date_range_are_exported(client: Client, two: list[Application]) -> None:
    old = two[0]
    Application.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=40))
    rows = read_csv(post(login(client, "kosodate-tanto")))
    assert [r[0] for r in rows[1:]] == [two[1].reference_number]


def test_another_departments_procedure_is_not_found(client: Client, two: list[Application]) -> None:
    response = post(login(client, "kumin-kacho"))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="integrations.export").exists()


def test_a_resident_cannot_export(client: Client, hanako: User, two: list[Application]) -> None:
    client.force_login(hanako)
    assert post(client).status_code == 403
    assert client.get(URL).status_code == 403


def test_staff_without_a_department_cannot_export(client: Client, ward: None) -> None:
    nobody = User.objects.create_user(username="n@x.jp", email="n@x.jp", password="x", kind=User.Kind.STAFF)
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_the_form_lists_only_the_users_procedures(client: Client, ward: None) -> None:
    page = login(client, "kosodate-tanto").get(URL).content.decode()
    assert 'value="jidoteate"' in page
    assert 'value="juminhyo-copy"' not in page
    assert "マイナンバーの列は出力されません" in page


def test_a_bad_date_range_is_refused_at_the_field(client: Client, two: list[Application]) -> None:
    today = timezone.localdate()
    response = post(
        login(client, "kosodate-tanto"),
        date_from=today.isoformat(),
        date_to=(today - dt.timedelta(days=3)).isoformat(),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "終了日は開始日より後の日付にしてください。" in page
    assert 'href="#id_date_to"' in page
    assert not AuditEvent.objects.filter(action="integrations.export").exists()
    missing = post(client, procedure="")
    assert missing.status_code == 400 and "手続きを選んでください。" in missing.content.decode()
